from django.db import models


class ProbeNote(models.Model):
    text = models.CharField(max_length=100)
    flag = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.text
