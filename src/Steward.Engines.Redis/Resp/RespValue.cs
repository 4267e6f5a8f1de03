namespace Steward.Engines.Redis.Resp;

/// <summary>A RESP2 reply.</summary>
public abstract record RespValue
{
    private RespValue()
    {
    }

    /// <summary>+OK style reply.</summary>
    public sealed record SimpleString(string Value) : RespValue;

    /// <summary>-ERR style reply.</summary>
    public sealed record Error(string Message) : RespValue;

    /// <summary>:42 style reply.</summary>
    public sealed record Integer(long Value) : RespValue;

    /// <summary>$n bulk string; <see cref="Value"/> is null for the null bulk string.</summary>
    public sealed record BulkString(byte[]? Value) : RespValue
    {
        public string? Text => Value is null ? null : System.Text.Encoding.UTF8.GetString(Value);
    }

    /// <summary>*n array; <see cref="Items"/> is null for the null array.</summary>
    public sealed record Array(IReadOnlyList<RespValue>? Items) : RespValue;

    /// <summary>The reply as text: simple and bulk strings, integers; null otherwise.</summary>
    public string? AsText() => this switch
    {
        SimpleString s => s.Value,
        BulkString b => b.Text,
        Integer i => i.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
