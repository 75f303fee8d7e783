/*
 * Candidate responses of the question partial (assessments/candidate/question.html).
 *
 *   VivaResponses.collect(fieldset) -> the response in the shape the type's grade() accepts,
 *                                      or null when the question is unanswered
 *   VivaResponses.restore(fieldset, value)  puts a response (same shape) back into the inputs
 *
 * Shapes, by data-question-type:
 *   single_choice      "optionId"
 *   multiple_response  ["optionId", ...]              (null when nothing is ticked)
 *   true_false         true | false
 *   short_answer       "text"                         (null when blank)
 *   numeric            "9.81" or "9.81 m/s2"          (number, a space, the chosen unit)
 *   essay              "text"                         (null when blank)
 *   matching           {"promptKey": "choiceKey", ...} (only the prompts answered)
 *   ordering           ["itemKey", ...] in the candidate's order (null until moved or restored)
 *   cloze              {"gapId": "text", ...}        (only the gaps filled)
 *
 * Every change to a question (typing, ticking, moving) dispatches a bubbling
 * "viva:response-change" event on its fieldset, e.g. for autosaving.
 * No inline script is needed: the page includes this file (strict CSP).
 */
(function () {
  "use strict";

  function all(root, selector) {
    return Array.prototype.slice.call(root.querySelectorAll(selector));
  }

  function textOrNull(element) {
    if (!element || !element.value.trim()) return null;
    return element.value;
  }

  function keyedOrNull(elements, keyAttribute) {
    var result = {};
    var any = false;
    elements.forEach(function (element) {
      if (element.value.trim()) {
        result[element.getAttribute(keyAttribute)] = element.value;
        any = true;
      }
    });
    return any ? result : null;
  }

  function changed(fieldset) {
    var event;
    if (typeof CustomEvent === "function") {
      event = new CustomEvent("viva:response-change", { bubbles: true });
    } else {
      event = document.createEvent("CustomEvent");
      event.initCustomEvent("viva:response-change", true, false, null);
    }
    fieldset.dispatchEvent(event);
  }

  var collectors = {
    single_choice: function (fieldset) {
      var checked = fieldset.querySelector("input[type=radio]:checked");
      return checked ? checked.value : null;
    },
    multiple_response: function (fieldset) {
      var ids = all(fieldset, "input[type=checkbox]:checked").map(function (box) {
        return box.value;
      });
      return ids.length ? ids : null;
    },
    true_false: function (fieldset) {
      var checked = fieldset.querySelector("input[type=radio]:checked");
      return checked ? checked.value === "true" : null;
    },
    short_answer: function (fieldset) {
      return textOrNull(fieldset.querySelector("input[type=text]"));
    },
    essay: function (fieldset) {
      return textOrNull(fieldset.querySelector("textarea"));
    },
    numeric: function (fieldset) {
      var number = fieldset.querySelector("[id$='-number']");
      if (!number || !number.value.trim()) return null;
      var unit = fieldset.querySelector("select[id$='-unit']");
      var value = number.value.trim();
      return unit && unit.value ? value + " " + unit.value : value;
    },
    matching: function (fieldset) {
      return keyedOrNull(all(fieldset, "select[data-prompt-key]"), "data-prompt-key");
    },
    ordering: function (fieldset) {
      var list = fieldset.querySelector("[data-viva-ordering]");
      if (!list || list.getAttribute("data-touched") !== "true") return null;
      return all(list, "li[data-key]").map(function (item) {
        return item.getAttribute("data-key");
      });
    },
    cloze: function (fieldset) {
      return keyedOrNull(all(fieldset, "[data-gap-id]"), "data-gap-id");
    },
  };

  function setKeyed(elements, keyAttribute, value) {
    elements.forEach(function (element) {
      var key = element.getAttribute(keyAttribute);
      var given = value && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : "";
      element.value = given == null ? "" : String(given);
    });
  }

  var restorers = {
    single_choice: function (fieldset, value) {
      all(fieldset, "input[type=radio]").forEach(function (radio) {
        radio.checked = value != null && radio.value === String(value);
      });
    },
    multiple_response: function (fieldset, value) {
      var chosen = Array.isArray(value) ? value.map(String) : [];
      all(fieldset, "input[type=checkbox]").forEach(function (box) {
        box.checked = chosen.indexOf(box.value) !== -1;
      });
    },
    true_false: function (fieldset, value) {
      var wanted = value === true || value === "true" ? "true" : value === false || value === "false" ? "false" : null;
      all(fieldset, "input[type=radio]").forEach(function (radio) {
        radio.checked = radio.value === wanted;
      });
    },
    short_answer: function (fieldset, value) {
      fieldset.querySelector("input[type=text]").value = value == null ? "" : String(value);
    },
    essay: function (fieldset, value) {
      var area = fieldset.querySelector("textarea");
      area.value = value == null ? "" : String(value);
      countWords(area);
    },
    numeric: function (fieldset, value) {
      var number = fieldset.querySelector("[id$='-number']");
      var unit = fieldset.querySelector("select[id$='-unit']");
      var text = value == null ? "" : String(value).trim();
      var found = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)$/.exec(text);
      number.value = found ? found[1] : text;
      if (unit) unit.value = found ? found[2] : "";
    },
    matching: function (fieldset, value) {
      setKeyed(all(fieldset, "select[data-prompt-key]"), "data-prompt-key", value);
    },
    ordering: function (fieldset, value) {
      var list = fieldset.querySelector("[data-viva-ordering]");
      if (!list) return;
      if (!Array.isArray(value)) {
        list.removeAttribute("data-touched");
        return;
      }
      value.forEach(function (key) {
        var item = all(list, "li[data-key]").filter(function (li) {
          return li.getAttribute("data-key") === String(key);
        })[0];
        if (item) list.appendChild(item);
      });
      list.setAttribute("data-touched", "true");
      refreshOrdering(list);
    },
    cloze: function (fieldset, value) {
      setKeyed(all(fieldset, "[data-gap-id]"), "data-gap-id", value);
    },
  };

  function typeOf(fieldset) {
    var type = fieldset && fieldset.getAttribute("data-question-type");
    if (!collectors[type]) throw new Error("Not a Viva question: " + type);
    return type;
  }

  // -- ordering: move buttons, keyboard operable, announced ----------------------------------

  function refreshOrdering(list) {
    var items = all(list, "li[data-key]");
    items.forEach(function (item, index) {
      var up = item.querySelector("[data-move=up]");
      var down = item.querySelector("[data-move=down]");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === items.length - 1;
    });
  }

  function move(button) {
    var item = button.closest("li[data-key]");
    var list = item && item.parentElement;
    if (!list || !list.hasAttribute("data-viva-ordering")) return;
    var up = button.getAttribute("data-move") === "up";
    var sibling = up ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    list.insertBefore(item, up ? sibling : sibling.nextElementSibling);
    list.setAttribute("data-touched", "true");
    refreshOrdering(list);
    var items = all(list, "li[data-key]");
    var position = items.indexOf(item) + 1;
    var fieldset = list.closest("fieldset");
    var announce = fieldset && fieldset.querySelector("[data-viva-announce]");
    if (announce) {
      var text = item.querySelector(".viva-ordering__text").textContent.trim();
      announce.textContent = text + ": position " + position + " of " + items.length + ".";
    }
    // Keep the focus on the same button, or on its twin when it became disabled at an end.
    var target = button.disabled ? item.querySelector(up ? "[data-move=down]" : "[data-move=up]") : button;
    if (target) target.focus();
    if (fieldset) changed(fieldset);
  }

  // -- essay word count ------------------------------------------------------------------------

  function countWords(area) {
    var fieldset = area.closest("fieldset");
    var output = fieldset && fieldset.querySelector("[data-viva-word-count]");
    if (!output) return;
    var words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
    output.textContent = words + (words === 1 ? " word" : " words");
  }

  function setUp(root) {
    all(root, "[data-viva-ordering]").forEach(refreshOrdering);
    all(root, ".viva-question textarea").forEach(countWords);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".viva-question [data-move]");
    if (button) {
      event.preventDefault();
      move(button);
    }
  });
  ["input", "change"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var fieldset = event.target.closest && event.target.closest("fieldset.viva-question");
      if (!fieldset) return;
      if (event.target.tagName === "TEXTAREA") countWords(event.target);
      if (name === "change" || event.target.tagName !== "SELECT") changed(fieldset);
    });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUp(document);
    });
  } else {
    setUp(document);
  }

  window.VivaResponses = {
    collect: function (fieldset) {
      return collectors[typeOf(fieldset)](fieldset);
    },
    restore: function (fieldset, value) {
      restorers[typeOf(fieldset)](fieldset, value);
    },
    /** Wires up questions added to the page after it loaded (ordering buttons, word counts). */
    setUp: setUp,
  };
})();
