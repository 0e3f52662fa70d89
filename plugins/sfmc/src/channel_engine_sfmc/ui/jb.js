/*
 * Journey Builder's inspector protocol, from the activity page's side: our own small client of Postmonger's
 * documented wire format (Postmonger itself is not shipped).
 *
 * The wire format. Each message is one window.postMessage whose data is a JSON *string*:
 *     {"e": "<event name>", "z1": <first argument>, "z2": <second argument>, ...}
 * The receiver parses it, takes `e` as the event name and the other members, in order, as the arguments.
 *
 * The events (Salesforce's "Postmonger Events Reference"):
 *   the page sends     ready, requestTokens, requestEndpoints, requestSchema, requestInteraction,
 *                      requestTriggerEventDefinition, requestCulture, updateActivity(activity), nextStep,
 *                      prevStep, updateButton, updateSteps, setActivityDirtyState(bool),
 *                      requestInspectorClose, destroy
 *   Journey Builder    initActivity(activity) (the answer to the first `ready`), requestedTokens({token,
 *   sends              fuel2token, expires}), requestedEndpoints, requestedSchema({schema: [...]}),
 *                      requestedInteraction(journey), requestedTriggerEventDefinition, requestedCulture,
 *                      clickedNext, clickedBack, gotoStep
 *
 * Origins. Postmonger accepts any sender and posts to "*". This client does neither: it talks only to
 * window.parent, and only when the parent's origin is one of Journey Builder's (the page's
 * <meta name="jb-origins">, filled by the engine: "https://*.exacttarget.com ..." plus exact origins). It
 * posts with that origin as the target, and drops any message whose source is not the parent or whose
 * origin is not that origin.
 */
(function (root) {
  "use strict";

  /** Does `origin` match one of `patterns` ("https://*.example.com" or an exact origin)? */
  function originAllowed(origin, patterns) {
    return patterns.some(function (pattern) {
      if (pattern === origin) {
        return true;
      }
      var wildcard = /^(https?):\/\/\*\.([a-z0-9.-]+)$/i.exec(pattern);
      if (!wildcard) {
        return false;
      }
      var suffix = wildcard[2].toLowerCase().replace(/[.]/g, "\\.");
      return new RegExp("^" + wildcard[1].toLowerCase() + "://([a-z0-9-]+\\.)+" + suffix + "$").test(origin);
    });
  }

  /** The patterns the engine put in the page. */
  function pagePatterns() {
    var meta = document.querySelector('meta[name="jb-origins"]');
    return meta ? meta.content.split(/\s+/).filter(Boolean) : [];
  }

  /** The origin of the page that frames us, or null. */
  function parentOrigin() {
    if (root.parent === root) {
      return null;
    }
    if (root.location.ancestorOrigins && root.location.ancestorOrigins.length) {
      return root.location.ancestorOrigins[0];
    }
    try {
      return new URL(document.referrer).origin;
    } catch (e) {
      return null;
    }
  }

  function JourneyBuilder(patterns) {
    var self = this;
    self.handlers = {};
    self.patterns = patterns || pagePatterns();
    self.origin = parentOrigin();
    if (self.origin === null) {
      self.problem = "This page configures a Journey Builder activity: open it from Journey Builder.";
    } else if (!originAllowed(self.origin, self.patterns)) {
      self.problem =
        "This page only talks to Journey Builder, and " + self.origin + " is not one of its origins.";
    } else {
      self.problem = null;
    }
    root.addEventListener("message", function (event) {
      self.receive(event);
    });
  }

  /** Call `handler(arg1, arg2, ...)` for each `event` Journey Builder sends. */
  JourneyBuilder.prototype.on = function (event, handler) {
    (this.handlers[event] = this.handlers[event] || []).push(handler);
    return this;
  };

  /** Send `event` with its arguments; false when there is no Journey Builder to send it to. */
  JourneyBuilder.prototype.trigger = function (event) {
    if (this.problem) {
      return false;
    }
    var message = { e: event };
    for (var i = 1; i < arguments.length; i++) {
      message["z" + i] = arguments[i];
    }
    root.parent.postMessage(JSON.stringify(message), this.origin);
    return true;
  };

  JourneyBuilder.prototype.receive = function (event) {
    if (this.problem || event.source !== root.parent || event.origin !== this.origin) {
      return;
    }
    if (typeof event.data !== "string") {
      return;
    }
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!data || typeof data !== "object" || typeof data.e !== "string" || !data.e) {
      return;
    }
    var args = Object.keys(data)
      .filter(function (key) {
        return key !== "e";
      })
      .map(function (key) {
        return data[key];
      });
    (this.handlers[data.e] || []).forEach(function (handler) {
      handler.apply(null, args);
    });
  };

  root.JourneyBuilder = JourneyBuilder;
  root.JourneyBuilder.originAllowed = originAllowed;
})(window);
