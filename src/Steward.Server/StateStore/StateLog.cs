namespace Steward.Server.StateStore;

/// <summary>The state store's and the broker lease's log lines (15001-15099).</summary>
internal static partial class StateLog
{
    [LoggerMessage(EventId = 15001, Level = LogLevel.Information, Message = "State in {Store}")]
    public static partial void StateIn(ILogger logger, string store);

    [LoggerMessage(EventId = 15002, Level = LogLevel.Information, Message = "Standby broker {Me}: the lease is held by {Holder}; waiting to take over")]
    public static partial void Standby(ILogger logger, string me, string holder);

    [LoggerMessage(EventId = 15003, Level = LogLevel.Warning, Message = "Broker {Me} holds the lease (term {Epoch}): active; starting the operations, the supervisor and the schedulers")]
    public static partial void Active(ILogger logger, string me, long epoch);

    [LoggerMessage(EventId = 15004, Level = LogLevel.Warning, Message = "Broker {Me} could not reach the lease")]
    public static partial void LeaseUnreachable(ILogger logger, string me, Exception exception);

    [LoggerMessage(EventId = 15005, Level = LogLevel.Critical, Message = "Broker {Me} fenced: {Reason}; stopping at once so that it does no work another broker may be doing")]
    public static partial void Fenced(ILogger logger, string me, string reason);

    [LoggerMessage(EventId = 15006, Level = LogLevel.Information, Message = "Broker {Me} gave the lease up")]
    public static partial void Released(ILogger logger, string me);
}
