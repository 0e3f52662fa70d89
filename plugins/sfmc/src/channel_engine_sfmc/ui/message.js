/*
 * The message activity's inspector page. On load it asks Journey Builder for the activity (initActivity),
 * the user's tokens (for the business unit's options), the entry source's schema (phone and merge fields)
 * and the journey (its name and version go into the callback data). On Journey Builder's Next/Done (or the
 * page's Done) it checks the form and, when nothing is wrong, saves the inArguments the plugin README
 * describes with updateActivity; otherwise it shows each problem next to its field and saves nothing.
 */
(function () {
  "use strict";

  var forms = window.forms;
  var $ = forms.byId;
  // Keys the activity itself uses; any other inArgument binds a contact field for the %%Field%% placeholders.
  var RESERVED = [
    "channel", "phone", "content", "sender", "account", "urlOptions", "speedLimit", "validityPeriod",
    "customCallbackData", "activityName", "triggerEventOnResponse", "journeyName", "versionNumber", "mid",
  ];
  var PLACEHOLDER = /%%([A-Za-z0-9_.\-]+)%%/g;
  var FORBIDDEN_NAME = /["\\\u0000-\u001f\u007f]/;
  var SENDER_REQUIRED = ["viber", "whatsapp", "kakao-alim", "kakao-chingu"];

  // -- the channels' content forms: the common keys; the JSON editor holds the whole object -------------

  function getPath(object, path) {
    var value = path.split(".").reduce(function (at, key) {
      return at && typeof at === "object" ? at[key] : undefined;
    }, object);
    return value === undefined || value === null ? "" : String(value);
  }

  function setPath(object, path, value, keepEmpty) {
    var keys = path.split(".");
    var parents = [object];
    for (var i = 0; i < keys.length - 1; i++) {
      var at = parents[i];
      if (!at[keys[i]] || typeof at[keys[i]] !== "object") {
        at[keys[i]] = {};
      }
      parents.push(at[keys[i]]);
    }
    var last = keys[keys.length - 1];
    if (value === "" && !keepEmpty) {
      delete parents[parents.length - 1][last];
      for (var j = parents.length - 1; j > 0; j--) {
        if (Object.keys(parents[j]).length === 0) {
          delete parents[j - 1][keys[j - 1]];
        }
      }
    } else {
      parents[parents.length - 1][last] = value;
    }
  }

  function field(path, label, options) {
    options = options || {};
    return {
      id: "content-" + path.replace(/\./g, "-"),
      label: label,
      required: Boolean(options.required),
      multiline: Boolean(options.multiline),
      choices: options.choices,
      get: function (content) {
        return getPath(content, path);
      },
      set: function (content, value) {
        setPath(content, path, value, options.required);
      },
    };
  }

  /** An MMS segment of `type`: its first one is the form's field; emptying it removes the segment. */
  function segmentField(type, key, label, required) {
    return {
      id: "content-mms-" + type,
      label: label,
      required: required,
      multiline: type === "text",
      get: function (content) {
        var found = (content.segments || []).filter(function (s) {
          return s && s.type === type;
        })[0];
        return found && found[key] ? String(found[key]) : "";
      },
      set: function (content, value) {
        var segments = Array.isArray(content.segments) ? content.segments : [];
        var index = segments.findIndex(function (s) {
          return s && s.type === type;
        });
        if (index < 0 && value !== "") {
          var segment = { type: type };
          segment[key] = value;
          segments.push(segment);
        } else if (index >= 0 && value === "" && !required) {
          segments.splice(index, 1);
        } else if (index >= 0) {
          segments[index][key] = value;
        }
        content.segments = segments;
      },
    };
  }

  var placeholdersField = {
    id: "content-placeholders",
    label: "Template placeholders {{1}}, {{2}}… (one per line)",
    multiline: true,
    get: function (content) {
      return Array.isArray(content.placeholders) ? content.placeholders.join("\n") : "";
    },
    set: function (content, value) {
      content.placeholders = value.split("\n").filter(function (line) {
        return line.trim() !== "";
      });
    },
  };

  var CHANNEL_FORMS = {
    sms: { starter: { text: "" }, fields: [field("text", "Text", { required: true, multiline: true })] },
    lms: {
      starter: { title: "", text: "" },
      fields: [
        field("title", "Title", { required: true }),
        field("text", "Text", { required: true, multiline: true }),
        field("southKorea.resellerCode", "Reseller code (numbers registered in South Korea)"),
      ],
    },
    mms: {
      starter: { title: "", segments: [{ type: "text", text: "" }] },
      fields: [
        field("title", "Title"),
        segmentField("text", "text", "Text", true),
        segmentField("image", "url", "Image URL", false),
      ],
    },
    whatsapp: {
      starter: { type: "TEMPLATE", templateName: "", language: "en", placeholders: [] },
      fields: [
        field("templateName", "Template name", { required: true }),
        field("language", "Template language (en, en_GB…)", { required: true }),
        placeholdersField,
      ],
    },
    viber: {
      starter: { text: "" },
      fields: [
        field("text", "Text", { multiline: true }),
        field("imageUrl", "Image URL"),
        field("button.title", "Button text"),
        field("button.url", "Button URL"),
        field("label", "Message type", { choices: ["", "PROMOTIONAL", "TRANSACTIONAL"] }),
      ],
    },
    "kakao-alim": {
      starter: { templateCode: "", text: "" },
      fields: [
        field("templateCode", "Template code", { required: true }),
        field("title", "Template title"),
        field("text", "Message body", { required: true, multiline: true }),
      ],
    },
    "kakao-chingu": {
      starter: { text: "" },
      fields: [
        field("text", "Text", { required: true, multiline: true }),
        field("image.url", "Image URL"),
        field("image.link", "Image link"),
      ],
    },
    rcs: { starter: { type: "TEXT", text: "" }, fields: [field("text", "Text (TEXT messages)", { multiline: true })] },
  };

  // -- state --------------------------------------------------------------------------------------------

  var jb = new window.JourneyBuilder();
  var activity = null; // the activity as Journey Builder sent it; saved back with our inArguments
  var options = null; // the business unit's options, or null
  var optionsProblem = "the page is still waiting for Journey Builder's token";
  var schema = []; // the entry source's fields: {key, name, type}
  var savedBindings = {}; // field name -> binding, from the saved activity
  var journey = {}; // journeyName, versionNumber from requestedInteraction
  var content = {};
  var lastMergeTarget = null;
  var dirty = false;

  function channelForm() {
    return CHANNEL_FORMS[$("channel").value] || { starter: {}, fields: [] };
  }

  function markDirty() {
    if (!dirty && activity) {
      dirty = true;
      jb.trigger("setActivityDirtyState", true);
    }
  }

  // -- content ------------------------------------------------------------------------------------------

  function showContentJson() {
    $("content-json").value = JSON.stringify(content, null, 2);
  }

  function renderContentFields() {
    var box = $("content-fields");
    box.textContent = "";
    channelForm().fields.forEach(function (spec) {
      var label = document.createElement("label");
      label.htmlFor = spec.id;
      label.textContent = spec.label + (spec.required ? " *" : "");
      var input;
      if (spec.choices) {
        input = document.createElement("select");
        spec.choices.forEach(function (choice) {
          input.appendChild(new Option(choice || "(none)", choice));
        });
      } else {
        input = document.createElement(spec.multiline ? "textarea" : "input");
        input.className = "mergeable";
        if (spec.multiline) {
          input.rows = 4;
        }
      }
      input.id = spec.id;
      input.value = spec.get(content);
      input.addEventListener(spec.choices ? "change" : "input", function () {
        spec.set(content, input.value);
        showContentJson();
        markDirty();
      });
      box.appendChild(label);
      box.appendChild(input);
    });
    showContentJson();
  }

  function refreshContentFields() {
    channelForm().fields.forEach(function (spec) {
      var input = $(spec.id);
      if (input && document.activeElement !== input) {
        input.value = spec.get(content);
      }
    });
  }

  function contentJsonEdited() {
    var parsed;
    try {
      parsed = JSON.parse($("content-json").value);
    } catch (e) {
      forms.fieldError("content", "Content (JSON): not valid JSON: " + e.message);
      return;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      forms.fieldError("content", "Content (JSON): must be a JSON object, {…}.");
      return;
    }
    forms.fieldError("content", "");
    content = parsed;
    refreshContentFields();
  }

  function channelChanged() {
    var starter = JSON.parse(JSON.stringify(channelForm().starter));
    if (typeof content.text === "string" && content.text && "text" in starter) {
      starter.text = content.text; // keep what was written when switching between text channels
    }
    content = starter;
    renderContentFields();
    fillSenders();
  }

  // -- choices from the options and the schema ----------------------------------------------------------

  function fillSenders() {
    var list = $("sender-list");
    list.textContent = "";
    var names = (options && options.senders && options.senders[$("channel").value]) || [];
    names.forEach(function (name) {
      list.appendChild(new Option(name, name));
    });
  }

  function optionsArrived(body) {
    options = body;
    optionsProblem = null;
    forms.status("Business unit " + body.mid + ": " + body.channels.length + " channels installed.");
    forms.fillSelect(
      $("channel"),
      body.channels.map(function (c) {
        return [c, c];
      }),
      "Choose a channel…"
    );
    forms.fillSelect(
      $("account"),
      body.accounts.map(function (a) {
        return [a, a];
      }),
      "The first account" + (body.accounts.length ? " (" + body.accounts[0] + ")" : "")
    );
    forms.fillSelect(
      $("custom-domain"),
      body.customDomains.map(function (d) {
        return [d, d];
      }),
      "Infobip's default domain"
    );
    fillSenders();
  }

  function fieldLabel(binding) {
    var found = schema.filter(function (f) {
      return "{{" + f.key + "}}" === binding;
    })[0];
    if (found) {
      return found.name + (found.type ? " (" + found.type + ")" : "");
    }
    var match = /\.([^.{}]+)\}\}$/.exec(binding);
    return match ? match[1] : binding;
  }

  function addPhone(binding) {
    var exists = Array.prototype.some.call($("phones").children, function (item) {
      return item.dataset.binding === binding;
    });
    if (exists || !binding) {
      return;
    }
    var item = document.createElement("li");
    item.dataset.binding = binding;
    var name = document.createElement("span");
    name.className = "phone-name";
    name.textContent = fieldLabel(binding);
    var remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove " + name.textContent);
    remove.addEventListener("click", function () {
      item.remove();
      markDirty();
    });
    item.appendChild(name);
    item.appendChild(remove);
    $("phones").appendChild(item);
  }

  function phoneBindings() {
    return Array.prototype.map.call($("phones").children, function (item) {
      return item.dataset.binding;
    });
  }

  function schemaArrived(data) {
    var fields = (data && Array.isArray(data.schema) ? data.schema : []).filter(function (f) {
      return f && typeof f.key === "string";
    });
    schema = fields.map(function (f) {
      return { key: f.key, name: f.name || f.key.split(".").pop(), type: f.type || "" };
    });
    var phonesFirst = schema
      .filter(function (f) {
        return String(f.type).toLowerCase() === "phone";
      })
      .concat(
        schema.filter(function (f) {
          return String(f.type).toLowerCase() !== "phone";
        })
      );
    forms.fillSelect(
      $("phone-add"),
      phonesFirst.map(function (f) {
        return ["{{" + f.key + "}}", f.name + (f.type ? " (" + f.type + ")" : "")];
      }),
      "Add a phone field…"
    );
    forms.fillSelect(
      $("merge-field"),
      schema.map(function (f) {
        return [f.name, "%%" + f.name + "%%"];
      }),
      "Merge fields of the entry source…"
    );
    Array.prototype.forEach.call($("phones").children, function (item) {
      item.querySelector(".phone-name").textContent = fieldLabel(item.dataset.binding);
    });
  }

  // -- custom callback data -----------------------------------------------------------------------------

  function addCallbackRow(name, value) {
    var row = document.createElement("div");
    row.className = "callback-row";
    var nameInput = document.createElement("input");
    nameInput.className = "callback-name";
    nameInput.placeholder = "Field name";
    nameInput.setAttribute("aria-label", "Callback field name");
    nameInput.value = name || "";
    var valueInput = document.createElement("input");
    valueInput.className = "callback-value mergeable";
    valueInput.placeholder = "Value (merge fields allowed)";
    valueInput.setAttribute("aria-label", "Callback field value");
    valueInput.value = value || "";
    var remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.addEventListener("click", function () {
      row.remove();
      markDirty();
    });
    row.appendChild(nameInput);
    row.appendChild(valueInput);
    row.appendChild(remove);
    $("callback-rows").appendChild(row);
    return row;
  }

  function callbackRows() {
    return Array.prototype.map.call($("callback-rows").children, function (row) {
      return { name: row.querySelector(".callback-name").value, value: row.querySelector(".callback-value").value };
    });
  }

  // -- restoring a saved activity -----------------------------------------------------------------------

  function setToggle(id, on) {
    $(id).checked = Boolean(on);
    toggled(id);
  }

  function toggled(id) {
    var boxes = { "speed-enabled": "speed-box", "validity-enabled": "validity-box", "trigger-enabled": "trigger-key" };
    $(boxes[id]).disabled = !$(id).checked;
  }

  function restore(payload) {
    activity = payload || {};
    var saved = forms.readInArguments(activity);
    var args = saved.args;
    forms.choose($("channel"), args.channel || "");
    content =
      args.content && typeof args.content === "object"
        ? JSON.parse(JSON.stringify(args.content))
        : JSON.parse(JSON.stringify(channelForm().starter));
    renderContentFields();
    fillSenders();
    $("phones").textContent = "";
    saved.phones.forEach(addPhone);
    $("sender").value = args.sender || "";
    forms.choose($("account"), args.account || "");
    var url = args.urlOptions || {};
    $("shorten-url").checked = Boolean(args.urlOptions && url.shortenUrl !== false);
    $("track-clicks").checked = Boolean(args.urlOptions && url.trackClicks !== false);
    $("remove-protocol").checked = Boolean(url.removeProtocol);
    forms.choose($("custom-domain"), url.customDomain || "");
    var speed = args.speedLimit;
    setToggle("speed-enabled", speed);
    $("speed-amount").value = speed && speed.amount !== undefined ? String(speed.amount) : "";
    $("speed-unit").value = (speed && speed.timeUnit) || "HOUR";
    var validity = args.validityPeriod;
    setToggle("validity-enabled", validity);
    $("validity-amount").value = validity && validity.amount !== undefined ? String(validity.amount) : "";
    $("validity-unit").value = (validity && validity.timeUnit) || "HOURS";
    $("callback-rows").textContent = "";
    (Array.isArray(args.customCallbackData) ? args.customCallbackData : []).forEach(function (entry) {
      addCallbackRow(entry && entry.name, entry && entry.value);
    });
    var trigger = args.triggerEventOnResponse;
    setToggle("trigger-enabled", trigger && trigger.eventDefinitionKey);
    $("trigger-key").value = (trigger && trigger.eventDefinitionKey) || "";
    $("activity-name").value = args.activityName || activity.name || "";
    savedBindings = {};
    Object.keys(args).forEach(function (key) {
      if (RESERVED.indexOf(key) < 0) {
        savedBindings[key] = args[key];
      }
    });
    if (args.journeyName && !journey.journeyName) {
      journey.journeyName = args.journeyName;
    }
    if (args.versionNumber !== undefined && journey.versionNumber === undefined) {
      journey.versionNumber = args.versionNumber;
    }
    dirty = false;
  }

  // -- checking and saving ------------------------------------------------------------------------------

  function bindingFor(name) {
    var found = schema.filter(function (f) {
      return f.name === name;
    })[0];
    if (found) {
      return "{{" + found.key + "}}";
    }
    return savedBindings[name];
  }

  function placeholders(text) {
    var names = [];
    var match;
    PLACEHOLDER.lastIndex = 0;
    while ((match = PLACEHOLDER.exec(text)) !== null) {
      names.push(match[1]);
    }
    return names;
  }

  /** The inArguments the form describes, or the problems that stop it from being saved. */
  function collect() {
    var problems = [];
    function problem(fieldName, message) {
      problems.push({ field: fieldName, message: message });
    }
    if (!options) {
      problem("channel", "Nothing can be saved: this business unit's options could not be loaded (" + optionsProblem + ").");
      return { problems: problems };
    }
    var channel = $("channel").value;
    if (!channel) {
      problem("channel", "Channel: choose the channel to send on.");
    } else if (options.channels.indexOf(channel) < 0) {
      problem("channel", "Channel: " + channel + " is not installed in the engine.");
    }
    var phones = phoneBindings();
    if (!phones.length) {
      problem("phones", "Phone fields: add at least one phone field of the entry source.");
    }
    var sender = $("sender").value.trim();
    if (!sender && SENDER_REQUIRED.indexOf(channel) >= 0) {
      problem("sender", "Sender: the " + channel + " channel needs its registered sender.");
    }
    var account = $("account").value;
    if (account && options.accounts.indexOf(account) < 0) {
      problem("account", "Infobip account: " + account + " is not one of this business unit's accounts.");
    }
    var jsonOk = true;
    try {
      var parsed = JSON.parse($("content-json").value);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error("it must be a JSON object, {…}");
      }
      content = parsed;
    } catch (e) {
      jsonOk = false;
      problem("content", "Content (JSON): not valid: " + e.message + ".");
    }
    if (jsonOk) {
      channelForm().fields.forEach(function (spec) {
        if (spec.required && !spec.get(content).trim()) {
          problem("content", "Content: " + spec.label + " is required.");
        }
      });
    }
    var shorten = $("shorten-url").checked;
    var track = $("track-clicks").checked;
    var removeProtocol = $("remove-protocol").checked;
    var domain = $("custom-domain").value;
    if (!shorten && (track || removeProtocol || domain)) {
      problem("url", "URL options: tracking clicks, removing https:// and a custom domain need Shorten URLs.");
    }
    if (domain && options.customDomains.indexOf(domain) < 0) {
      problem("url", "URL options: " + domain + " is not one of this business unit's custom domains.");
    }
    var speedOn = $("speed-enabled").checked;
    if (speedOn && !forms.wholeNumber($("speed-amount").value, 1, 100000)) {
      problem("speed", "Speed limit: the number of messages must be a whole number from 1 to 100,000.");
    }
    var validityOn = $("validity-enabled").checked;
    if (validityOn && !forms.wholeNumber($("validity-amount").value, 1)) {
      problem("validity", "Validity period: the amount must be a whole number of at least 1.");
    }
    var reserved = options.callbackData.reservedNames;
    var rows = callbackRows();
    var seen = {};
    var callbackObject = {};
    rows.forEach(function (row, i) {
      var where = "Custom callback data, row " + (i + 1) + ": ";
      if (!row.name) {
        problem("callback", where + "the field name is missing.");
      } else if (reserved.indexOf(row.name) >= 0) {
        problem(
          "callback",
          where + row.name + " is reserved for the engine's own callback data (" + reserved.join(", ") + ")."
        );
      } else if (FORBIDDEN_NAME.test(row.name)) {
        problem("callback", where + "a field name must not contain double quotes, backslashes or control characters.");
      } else if (seen[row.name]) {
        problem("callback", where + row.name + " is used twice.");
      }
      seen[row.name] = true;
      callbackObject[row.name] = row.value;
    });
    if (JSON.stringify(callbackObject).length > options.callbackData.maxLength) {
      problem(
        "callback",
        "Custom callback data: at most " + options.callbackData.maxLength + " characters together, the engine's own included."
      );
    }
    var triggerOn = $("trigger-enabled").checked;
    var triggerKey = $("trigger-key").value.trim();
    if (triggerOn && !triggerKey) {
      problem("trigger", "Trigger event on response: enter the event definition key of the API event to fire.");
    }
    var activityName = $("activity-name").value.trim();
    if (activityName.length > 100) {
      problem("activity-name", "Activity name: at most 100 characters (it becomes the bulk id).");
    }
    var bindings = {};
    function bind(names, fieldName, where) {
      names.forEach(function (name) {
        var binding = bindingFor(name);
        if (binding === undefined) {
          problem(fieldName, where + ": %%" + name + "%% is not a field of the journey's entry source.");
        } else {
          bindings[name] = binding;
        }
      });
    }
    if (jsonOk) {
      bind(placeholders(JSON.stringify(content)), "content", "Content");
    }
    bind(placeholders(rows.map(function (row) { return row.value; }).join(" ")), "callback", "Custom callback data");
    if (problems.length) {
      return { problems: problems };
    }
    var list = [{ channel: channel }];
    phones.forEach(function (phone) {
      list.push({ phone: phone });
    });
    list.push({ content: content });
    if (sender) {
      list.push({ sender: sender });
    }
    if (account) {
      list.push({ account: account });
    }
    if (shorten) {
      var url = { shortenUrl: true, trackClicks: track, removeProtocol: removeProtocol };
      if (domain) {
        url.customDomain = domain;
      }
      list.push({ urlOptions: url });
    }
    if (speedOn) {
      list.push({ speedLimit: { amount: Number($("speed-amount").value), timeUnit: $("speed-unit").value } });
    }
    if (validityOn) {
      list.push({ validityPeriod: { amount: Number($("validity-amount").value), timeUnit: $("validity-unit").value } });
    }
    if (rows.length) {
      list.push({ customCallbackData: rows });
    }
    list.push({ activityName: activityName });
    if (triggerOn) {
      list.push({ triggerEventOnResponse: { eventDefinitionKey: triggerKey } });
    }
    if (journey.journeyName) {
      list.push({ journeyName: journey.journeyName });
    }
    if (journey.versionNumber !== undefined && journey.versionNumber !== null) {
      list.push({ versionNumber: journey.versionNumber });
    }
    Object.keys(bindings).forEach(function (name) {
      var entry = {};
      entry[name] = bindings[name];
      list.push(entry);
    });
    return { problems: [], inArguments: list, activityName: activityName };
  }

  function save() {
    forms.clearErrors();
    if (!activity) {
      forms.status("Journey Builder has not sent the activity yet: nothing to save.", true);
      return;
    }
    var result = collect();
    if (result.problems.length) {
      forms.showProblems(result.problems);
      return;
    }
    activity.arguments = activity.arguments || {};
    activity.arguments.execute = activity.arguments.execute || {};
    activity.arguments.execute.inArguments = result.inArguments;
    activity.metaData = activity.metaData || {};
    activity.metaData.isConfigured = true;
    if (result.activityName) {
      activity.name = result.activityName;
    }
    jb.trigger("updateActivity", activity);
    dirty = false;
    forms.status("Saved.");
  }

  // -- wiring -------------------------------------------------------------------------------------------

  function start() {
    if (jb.problem) {
      forms.status(jb.problem, true);
      return;
    }
    $("channel").addEventListener("change", channelChanged);
    $("phone-add").addEventListener("change", function () {
      addPhone(this.value);
      this.value = "";
      markDirty();
    });
    $("content-json").addEventListener("input", contentJsonEdited);
    $("callback-add").addEventListener("click", function () {
      addCallbackRow("", "").querySelector(".callback-name").focus();
      markDirty();
    });
    ["speed-enabled", "validity-enabled", "trigger-enabled"].forEach(function (id) {
      $(id).addEventListener("change", function () {
        toggled(id);
      });
    });
    document.addEventListener("focusin", function (event) {
      if (event.target.classList && event.target.classList.contains("mergeable")) {
        lastMergeTarget = event.target;
      }
    });
    $("merge-field").addEventListener("change", function () {
      var name = this.value;
      this.value = "";
      if (!name) {
        return;
      }
      var target = lastMergeTarget && document.body.contains(lastMergeTarget) ? lastMergeTarget : null;
      target = target || document.querySelector("#content-fields .mergeable");
      if (!target) {
        return;
      }
      var text = "%%" + name + "%%";
      var start = typeof target.selectionStart === "number" ? target.selectionStart : target.value.length;
      var end = typeof target.selectionEnd === "number" ? target.selectionEnd : start;
      target.value = target.value.slice(0, start) + text + target.value.slice(end);
      target.dispatchEvent(new Event("input", { bubbles: true }));
      target.focus();
      target.setSelectionRange(start + text.length, start + text.length);
    });
    $("activity").addEventListener("input", markDirty);
    $("activity").addEventListener("change", markDirty);
    $("save").addEventListener("click", save);

    jb.on("initActivity", restore);
    jb.on("requestedTokens", function (tokens) {
      forms.status("Loading this business unit's options…");
      forms.fetchOptions(tokens).then(optionsArrived, function (error) {
        optionsProblem = error.message;
        forms.status("This business unit's options could not be loaded: " + error.message, true);
      });
    });
    jb.on("requestedSchema", schemaArrived);
    jb.on("requestedInteraction", function (interaction) {
      if (interaction && interaction.name) {
        journey.journeyName = interaction.name;
      }
      if (interaction && interaction.version !== undefined) {
        journey.versionNumber = interaction.version;
      }
    });
    jb.on("clickedNext", save);
    jb.on("clickedDone", save);

    content = {};
    renderContentFields();
    jb.trigger("ready");
    jb.trigger("requestTokens");
    jb.trigger("requestSchema");
    jb.trigger("requestInteraction");
  }

  start();
})();
