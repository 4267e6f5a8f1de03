using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Steward.Engines.Redis.Resp;

/// <summary>
/// A minimal Redis connection: sends commands as RESP arrays of bulk strings and reads replies. Enough for
/// administration and health checks; not a general client. Error messages never echo command arguments,
/// which may hold passwords.
/// </summary>
public sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly RespReader _reader;

    private RespConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new RespReader(_stream);
    }

    /// <summary>Connects and, when a user is given, authenticates with AUTH user password.</summary>
    public static async Task<RespConnection> ConnectAsync(string host, int port, string? user, string? password, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, cancellationToken);
            var conn = new RespConnection(client);
            if (password is not null)
            {
                var reply = user is null
                    ? await conn.SendAsync(["AUTH", password], cancellationToken)
                    : await conn.SendAsync(["AUTH", user, password], cancellationToken);
                if (reply is RespValue.Error e)
                {
                    await conn.DisposeAsync();
                    throw new RespException("authentication failed: " + e.Message);
                }
            }

            return conn;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends a command and returns the reply, including error replies.</summary>
    public async Task<RespValue> SendAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var writer = new ArrayBufferWriter<byte>();
        Write(writer, $"*{args.Count.ToString(CultureInfo.InvariantCulture)}\r\n");
        foreach (var arg in args)
        {
            var bytes = Encoding.UTF8.GetBytes(arg);
            Write(writer, $"${bytes.Length.ToString(CultureInfo.InvariantCulture)}\r\n");
            writer.Write(bytes);
            Write(writer, "\r\n");
        }

        await _stream.WriteAsync(writer.WrittenMemory, cancellationToken);
        return await _reader.ReadAsync(cancellationToken);
    }

    /// <summary>Sends a command and throws when Redis answers with an error.</summary>
    public async Task<RespValue> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(args, cancellationToken);
        return reply is RespValue.Error e ? throw new RespException($"{args[0]} failed: {e.Message}") : reply;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Write(ArrayBufferWriter<byte> writer, string s) => writer.Write(Encoding.ASCII.GetBytes(s));
}
