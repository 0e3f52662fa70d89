/*
 * Get Reports' inspector page: which Infobip message activity of this journey to report on (from
 * requestInteraction: the activities whose execute URL is this engine's message activity for this business
 * unit) and which report data extension to read (the business unit's report extensions, from the options).
 * Saved as the inArguments reports_activity.py reads: [{messageActivityId}, {dataExtension}, {messageId}],
 * the last bound to the chosen activity's messageId outArgument ("{{Interaction.<its key>.messageId}}"), so
 * Journey Builder hands Get Reports the very message this contact's journey sent.
 */
(function () {
  "use strict";

  var forms = window.forms;
  var $ = forms.byId;
  var jb = new window.JourneyBuilder();
  var activity = null;
  var options = null;
  var optionsProblem = "the page is still waiting for Journey Builder's token";
  var journeyLoaded = false;
  var keysById = {}; // the journey's message activities: id -> key, the name their outArguments go by
  var savedBinding = null; // restored with the activity, kept when the journey does not say the key
  // This business unit's message activity: /sfmc/<MID>/message/execute, beside this page's folder.
  var messageExecute = normalized(new URL("../message/execute", window.location.href).href);

  function normalized(url) {
    return String(url || "").trim().replace(/\/+$/, "").toLowerCase();
  }

  function describeExtension() {
    var chosen = ((options && options.reportDataExtensions) || []).filter(function (de) {
      return de.key === $("data-extension").value;
    })[0];
    $("data-extension-help").textContent = !chosen
      ? ""
      : chosen.kind === "click"
      ? "Answers notificationType and url (NOT_CLICKED until the contact clicks)."
      : "Answers statusName, statusGroupName, errorName, doneAt, sentAt and seenAt (NOT_AVAILABLE until a report arrives).";
  }

  function restore(payload) {
    activity = payload || {};
    var args = forms.readInArguments(activity).args;
    forms.choose($("message-activity"), args.messageActivityId || "");
    forms.choose($("data-extension"), args.dataExtension || "");
    savedBinding = args.messageActivityId ? { id: args.messageActivityId, messageId: args.messageId } : null;
    describeExtension();
  }

  function journeyArrived(interaction) {
    var activities = (interaction && Array.isArray(interaction.activities) && interaction.activities) || [];
    var ours = activities.filter(function (a) {
      return a && a.arguments && a.arguments.execute && normalized(a.arguments.execute.url) === messageExecute;
    });
    var withId = ours.filter(function (a) {
      return a.id;
    });
    journeyLoaded = true;
    keysById = {};
    withId.forEach(function (a) {
      if (a.key) {
        keysById[a.id] = a.key;
      }
    });
    forms.fillSelect(
      $("message-activity"),
      withId.map(function (a) {
        return [a.id, a.name || a.key || a.id];
      }),
      withId.length ? "Choose a message activity…" : "This journey has no saved Infobip message activity"
    );
    if (ours.length > withId.length) {
      forms.status("Save the journey first: a message activity gets its id when the journey is saved.", true);
    }
  }

  // Without the activity's key (and no binding saved for it) no messageId is saved: Get Reports then
  // answers that the design must be saved again, where the key is known.
  function messageIdBinding(activityId) {
    if (keysById[activityId]) {
      return "{{Interaction." + keysById[activityId] + ".messageId}}";
    }
    return savedBinding && savedBinding.id === activityId ? savedBinding.messageId : null;
  }

  function optionsArrived(body) {
    options = body;
    optionsProblem = null;
    forms.status("Business unit " + body.mid + ".");
    forms.fillSelect(
      $("data-extension"),
      body.reportDataExtensions.map(function (de) {
        return [de.key, de.name + " (" + de.key + ", " + de.kind + ")"];
      }),
      "Choose a report data extension…"
    );
    describeExtension();
  }

  function save() {
    forms.clearErrors();
    if (!activity) {
      forms.status("Journey Builder has not sent the activity yet: nothing to save.", true);
      return;
    }
    var problems = [];
    var chosenActivity = $("message-activity").value;
    var extension = $("data-extension").value;
    if (!options) {
      problems.push({
        field: "data-extension",
        message: "Nothing can be saved: this business unit's options could not be loaded (" + optionsProblem + ").",
      });
    }
    if (!chosenActivity) {
      problems.push({ field: "message-activity", message: "Message activity: choose the message activity to report on." });
    } else if (journeyLoaded && forms.chosenMissing($("message-activity"))) {
      problems.push({
        field: "message-activity",
        message: "Message activity: " + chosenActivity + " is not an Infobip message activity of this journey.",
      });
    }
    if (options && !extension) {
      problems.push({ field: "data-extension", message: "Report data extension: choose the extension to read." });
    } else if (options && forms.chosenMissing($("data-extension"))) {
      problems.push({
        field: "data-extension",
        message: "Report data extension: " + extension + " is not one of this business unit's report extensions.",
      });
    }
    if (problems.length) {
      forms.showProblems(problems);
      return;
    }
    activity.arguments = activity.arguments || {};
    activity.arguments.execute = activity.arguments.execute || {};
    var inArguments = [{ messageActivityId: chosenActivity }, { dataExtension: extension }];
    var binding = messageIdBinding(chosenActivity);
    if (binding) {
      inArguments.push({ messageId: binding });
    }
    activity.arguments.execute.inArguments = inArguments;
    activity.metaData = activity.metaData || {};
    activity.metaData.isConfigured = true;
    jb.trigger("updateActivity", activity);
    forms.status("Saved.");
  }

  function start() {
    if (jb.problem) {
      forms.status(jb.problem, true);
      return;
    }
    $("data-extension").addEventListener("change", describeExtension);
    $("activity").addEventListener("change", function () {
      if (activity) {
        jb.trigger("setActivityDirtyState", true);
      }
    });
    $("save").addEventListener("click", save);
    jb.on("initActivity", restore);
    jb.on("requestedInteraction", journeyArrived);
    jb.on("requestedTokens", function (tokens) {
      forms.status("Loading this business unit's options…");
      forms.fetchOptions(tokens).then(optionsArrived, function (error) {
        optionsProblem = error.message;
        forms.status("This business unit's options could not be loaded: " + error.message, true);
      });
    });
    jb.on("clickedNext", save);
    jb.on("clickedDone", save);
    jb.trigger("ready");
    jb.trigger("requestTokens");
    jb.trigger("requestInteraction");
  }

  start();
})();
