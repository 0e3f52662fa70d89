/*
 * What both activity pages share: reading saved inArguments, the business unit's options (fetched with
 * the Journey Builder user's token), select boxes, and messages shown next to the field they are about.
 */
(function (root) {
  "use strict";

  var forms = {};

  forms.byId = function (id) {
    return document.getElementById(id);
  };

  /** The page's status line (what is loading, or what went wrong with Journey Builder or the engine). */
  forms.status = function (text, bad) {
    var line = forms.byId("status");
    line.textContent = text || "";
    line.className = bad ? "status bad" : "status";
  };

  /** Show `text` next to field `name` (element "<name>-error"), or clear it with no text. */
  forms.fieldError = function (name, text) {
    var slot = forms.byId(name + "-error");
    if (slot) {
      slot.textContent = text || "";
      slot.hidden = !text;
    }
  };

  /** Clear every field message and the summary. */
  forms.clearErrors = function () {
    Array.prototype.forEach.call(document.querySelectorAll(".error"), function (slot) {
      slot.textContent = "";
      slot.hidden = true;
    });
    forms.byId("summary").textContent = "";
  };

  /** Show problems ({field, message} pairs) next to their fields, and say nothing was saved. */
  forms.showProblems = function (problems) {
    var byField = {};
    problems.forEach(function (problem) {
      (byField[problem.field] = byField[problem.field] || []).push(problem.message);
    });
    Object.keys(byField).forEach(function (field) {
      forms.fieldError(field, byField[field].join(" "));
    });
    var summary = forms.byId("summary");
    summary.textContent =
      "Not saved: " + problems.length + (problems.length === 1 ? " problem" : " problems") + " to fix below.";
    var first = forms.byId(problems[0].field + "-error");
    if (first && first.scrollIntoView) {
      first.scrollIntoView({ block: "center" });
    }
  };

  /** The saved inArguments as {args: {key: value}, phones: [...]} ("phone" may repeat). */
  forms.readInArguments = function (activity) {
    var list =
      (activity && activity.arguments && activity.arguments.execute && activity.arguments.execute.inArguments) ||
      [];
    var args = {};
    var phones = [];
    list.forEach(function (entry) {
      if (!entry || typeof entry !== "object") {
        return;
      }
      Object.keys(entry).forEach(function (key) {
        if (key === "phone") {
          phones.push(entry[key]);
        } else {
          args[key] = entry[key];
        }
      });
    });
    return { args: args, phones: phones };
  };

  /** Fill a <select> with [value, label] pairs, keeping its current value (added, marked, when missing). */
  forms.fillSelect = function (select, pairs, blank) {
    var current = select.value;
    select.textContent = "";
    if (blank !== undefined) {
      select.appendChild(new Option(blank, ""));
    }
    pairs.forEach(function (pair) {
      select.appendChild(new Option(pair[1], pair[0]));
    });
    forms.choose(select, current);
  };

  /** Select `value`, adding it (marked as not offered) when the select does not offer it. */
  forms.choose = function (select, value) {
    if (value === undefined || value === null || value === "") {
      select.value = "";
      return;
    }
    var found = Array.prototype.some.call(select.options, function (option) {
      return option.value === value;
    });
    if (!found) {
      var missing = new Option(value + " (not offered by this business unit)", value);
      missing.dataset.missing = "true";
      select.appendChild(missing);
    }
    select.value = value;
  };

  /** Whether the selected option is one the business unit does not offer. */
  forms.chosenMissing = function (select) {
    var option = select.options[select.selectedIndex];
    return Boolean(option && option.dataset.missing);
  };

  /**
   * The business unit's options: GET ../ui/options (the page is /sfmc/<MID>/<activity>/index.html) with the
   * user's Journey Builder token. Rejects with an Error whose message is the engine's reason.
   */
  forms.fetchOptions = function (tokens) {
    var token = tokens && (tokens.fuel2token || tokens.fuel2Token);
    if (!token) {
      return Promise.reject(new Error("Journey Builder sent no fuel2token for this user."));
    }
    var url = new URL("../ui/options", root.location.href).href;
    return fetch(url, { headers: { Authorization: "Bearer " + token, Accept: "application/json" } }).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            if (!response.ok) {
              throw new Error(body.error || "the engine answered HTTP " + response.status);
            }
            return body;
          });
      },
      function () {
        throw new Error("the engine could not be reached");
      }
    );
  };

  /** Whether a string is a whole number from `low` to `high`. */
  forms.wholeNumber = function (text, low, high) {
    if (!/^\s*\d+\s*$/.test(text)) {
      return false;
    }
    var value = Number(text);
    return value >= low && (high === undefined || value <= high);
  };

  root.forms = forms;
})(window);
