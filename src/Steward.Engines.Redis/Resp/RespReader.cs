using System.Globalization;
using System.Text;

namespace Steward.Engines.Redis.Resp;

/// <summary>Parses RESP2 replies from a buffered stream.</summary>
public sealed class RespReader(Stream stream)
{
    private const int MaxBulk = 512 * 1024 * 1024;
    private readonly BufferedStream _in = new(stream, 16 * 1024);

    /// <summary>Reads one complete reply.</summary>
    public async ValueTask<RespValue> ReadAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken);
        if (line.Length == 0)
        {
            throw new RespException("empty reply line");
        }

        var body = line[1..];
        switch (line[0])
        {
            case '+':
                return new RespValue.SimpleString(body);
            case '-':
                return new RespValue.Error(body);
            case ':':
                return new RespValue.Integer(ParseLong(body));
            case '$':
                {
                    var len = ParseLong(body);
                    if (len < 0)
                    {
                        return new RespValue.BulkString(null);
                    }

                    if (len > MaxBulk)
                    {
                        throw new RespException($"bulk string of {len} bytes is larger than allowed");
                    }

                    var data = new byte[len + 2];
                    await ReadExactlyAsync(data, cancellationToken);
                    if (data[^2] != '\r' || data[^1] != '\n')
                    {
                        throw new RespException("bulk string not terminated by CRLF");
                    }

                    return new RespValue.BulkString(data[..^2]);
                }

            case '*':
                {
                    var count = ParseLong(body);
                    if (count < 0)
                    {
                        return new RespValue.Array(null);
                    }

                    var items = new List<RespValue>((int)Math.Min(count, 1024));
                    for (var i = 0; i < count; i++)
                    {
                        items.Add(await ReadAsync(cancellationToken));
                    }

                    return new RespValue.Array(items);
                }

            default:
                throw new RespException($"unexpected reply type '{line[0]}'");
        }
    }

    /// <summary>A reply cut short is a protocol error like any other, not an <see cref="EndOfStreamException"/>.</summary>
    private async ValueTask ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _in.ReadExactlyAsync(buffer, cancellationToken);
        }
        catch (EndOfStreamException)
        {
            throw new RespException("connection closed by the server");
        }
    }

    private static long ParseLong(string s) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new RespException($"invalid number '{s}'");

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        var buffer = new byte[1];
        while (true)
        {
            if (await _in.ReadAsync(buffer, cancellationToken) == 0)
            {
                throw new RespException("connection closed by the server");
            }

            if (buffer[0] == '\r')
            {
                await ReadExactlyAsync(buffer, cancellationToken);
                if (buffer[0] != '\n')
                {
                    throw new RespException("line not terminated by CRLF");
                }

                return sb.ToString();
            }

            if (sb.Length > 64 * 1024)
            {
                throw new RespException("reply line too long");
            }

            sb.Append((char)buffer[0]);
        }
    }
}
