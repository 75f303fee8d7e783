from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("probe", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="probenote", name="flag", field=models.BooleanField(default=False)
        ),
    ]
