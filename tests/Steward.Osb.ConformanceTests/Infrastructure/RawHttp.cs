using System.Net;
using System.Net.Sockets;
using System.Text;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Osb.ConformanceTests.Infrastructure;

/// <summary>
/// HTTP/1.1 written byte for byte on a TCP socket, the way an attacker sends it: the request target is not
/// normalized (no dot-segment removal, no re-encoding), header values may hold any byte, the body is sent as
/// given. The reply is read until the broker closes the connection.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends one request with the broker's credentials and the OSB version header.</summary>
    public static async Task<Reply> SendAsync(
        StewardServer server,
        string method,
        string target,
        byte[]? body = null,
        string? contentType = "application/json",
        IEnumerable<(string Name, byte[] Value)>? headers = null)
    {
        var head = new MemoryStream();
        void Line(string text) => head.Write(Encoding.ASCII.GetBytes(text + "\r\n"));
        Line($"{method} {target} HTTP/1.1");
        Line($"Host: 127.0.0.1:{server.Port}");
        Line("Authorization: Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{server.Username}:{server.Password}")));
        Line("X-Broker-API-Version: 2.17");
        Line("Connection: close");
        foreach (var (name, value) in headers ?? [])
        {
            head.Write(Encoding.ASCII.GetBytes(name + ": "));
            head.Write(value);
            Line(string.Empty);
        }

        if (body is not null)
        {
            if (contentType is not null)
            {
                Line("Content-Type: " + contentType);
            }

            Line($"Content-Length: {body.Length}");
        }

        Line(string.Empty);
        if (body is not null)
        {
            head.Write(body);
        }

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(head.ToArray());
        using var received = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await stream.CopyToAsync(received, timeout.Token);
        return await ParseAsync(received.ToArray());
    }

    /// <summary>Sends a JSON text body.</summary>
    public static Task<Reply> SendAsync(StewardServer server, string method, string target, string json, string? contentType = "application/json") =>
        SendAsync(server, method, target, Encoding.UTF8.GetBytes(json), contentType);

    private static async Task<Reply> ParseAsync(byte[] raw)
    {
        var text = Encoding.Latin1.GetString(raw);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        end.ShouldBeGreaterThan(0, $"the broker sent no complete HTTP response: '{text}'");
        var lines = text[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var response = new HttpResponseMessage((HttpStatusCode)status);
        var chunked = false;
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var (name, value) = (line[..colon], line[(colon + 1)..].Trim());
            chunked |= name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            if (!name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var payload = raw[(end + 4)..];
        response.Content = new ByteArrayContent(chunked ? Dechunk(payload) : payload);
        return await Reply.ReadAsync(response);
    }

    private static byte[] Dechunk(byte[] payload)
    {
        var output = new MemoryStream();
        var at = 0;
        while (true)
        {
            var lineEnd = Array.IndexOf(payload, (byte)'\r', at);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(payload, at, lineEnd - at).Split(';')[0], 16);
            if (size == 0)
            {
                return output.ToArray();
            }

            output.Write(payload, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
