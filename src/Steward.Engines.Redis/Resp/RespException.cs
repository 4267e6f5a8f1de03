namespace Steward.Engines.Redis.Resp;

/// <summary>Redis answered a command with an error reply, or broke the protocol.</summary>
public sealed class RespException(string message) : Exception(message);
