// Reads an .ics document on stdin and prints, as JSON, what Mozilla's ical.js (the parser behind
// Thunderbird) makes of it: the calendar's name and refresh interval, and each event's fields.
// Used by tests/scheduler/test_feeds.py so the feeds are checked by a real calendar parser.
import ICAL from "ical.js";

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

function propertyReport(component, name) {
  const property = component.getFirstProperty(name);
  if (!property) return null;
  const value = property.getFirstValue();
  return {
    type: property.type, // ical.js's value type: "duration" when VALUE=DURATION is understood
    value: value === null || value === undefined ? null : value.toString(),
    seconds: value instanceof ICAL.Duration ? value.toSeconds() : null,
  };
}

const text = await readStdin();
const calendar = new ICAL.Component(ICAL.parse(text));
// Register the feed's own VTIMEZONEs, as a calendar client does, so TZID times convert correctly.
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}

const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  const alarms = vevent.getAllSubcomponents("valarm").map((alarm) => ({
    action: alarm.getFirstPropertyValue("action"),
    trigger: String(alarm.getFirstPropertyValue("trigger")),
  }));
  return {
    uid: event.uid,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    summary: event.summary,
    location: event.location,
    description: event.description,
    start: event.startDate.toString(),
    end: event.endDate.toString(),
    timezone: event.startDate.zone ? event.startDate.zone.tzid : null,
    start_utc: event.startDate.toJSDate().toISOString(),
    end_utc: event.endDate.toJSDate().toISOString(),
    alarms,
  };
});

const report = {
  name: calendar.getFirstPropertyValue("name"),
  x_wr_calname: calendar.getFirstPropertyValue("x-wr-calname"),
  method: calendar.getFirstPropertyValue("method"),
  refresh_interval: propertyReport(calendar, "refresh-interval"),
  published_ttl: propertyReport(calendar, "x-published-ttl"),
  timezones: calendar.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
  events,
};
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
