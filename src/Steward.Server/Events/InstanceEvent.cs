namespace Steward.Server.Events;

/// <summary>
/// One thing that happened to an instance, as the event stream and the dashboard show it. Ids grow across
/// broker restarts (they start from the start time in microseconds), so a client resuming with
/// <c>Last-Event-ID</c> never mistakes a new event for one it has seen.
/// </summary>
/// <param name="Type">health, operation, backup, progress, incident or instance.</param>
/// <param name="Data">A small object serialized as the event's JSON data; it never holds a credential.</param>
internal sealed record InstanceEvent(long Id, string InstanceId, string Type, DateTimeOffset At, object Data);
