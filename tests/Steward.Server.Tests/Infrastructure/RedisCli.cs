using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Steward.Server.Tests.Infrastructure;

/// <summary>
/// The stock <c>redis-cli</c>, a client independent of Steward's own RESP code: what it prints is the server's own
/// answer (<c>OK</c>, <c>NOPERM …</c>, <c>AUTH failed: WRONGPASS …</c>, <c>NOAUTH …</c>).
/// </summary>
internal static class RedisCli
{
    /// <summary>Runs one command with a binding's credentials; returns what redis-cli printed (stdout and stderr).</summary>
    public static Task<string> RunAsync(JsonElement credentials, params string[] command) => RunAsync(
        credentials.GetProperty("host").GetString()!,
        credentials.GetProperty("port").GetInt32(),
        credentials.GetProperty("username").GetString(),
        credentials.GetProperty("password").GetString(),
        command);

    /// <summary>Runs one command, authenticating when <paramref name="user"/> is given (the password goes through
    /// REDISCLI_AUTH, not the command line).</summary>
    public static async Task<string> RunAsync(string host, int port, string? user, string? password, params string[] command)
    {
        var psi = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-h", host, "-p", port.ToString(CultureInfo.InvariantCulture), "--no-auth-warning" })
        {
            psi.ArgumentList.Add(a);
        }

        if (user is not null)
        {
            psi.ArgumentList.Add("--user");
            psi.ArgumentList.Add(user);
            psi.Environment["REDISCLI_AUTH"] = password;
        }

        foreach (var a in command)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException("redis-cli is not installed: apt-get install -y redis-tools (scripts/install-deps.sh does)", ex);
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return ((await stdout) + (await stderr)).Trim();
        }
    }

    /// <summary>An authenticated connection held open, spoken to in plain inline commands over a socket.</summary>
    public static async Task<Session> OpenAsync(JsonElement credentials)
    {
        var client = new TcpClient();
        await client.ConnectAsync(credentials.GetProperty("host").GetString()!, credentials.GetProperty("port").GetInt32());
        var session = new Session(client);
        var auth = await session.SendAsync($"AUTH {credentials.GetProperty("username").GetString()} {credentials.GetProperty("password").GetString()}");
        auth.ShouldBe("+OK");
        return session;
    }

    internal sealed class Session(TcpClient client) : IDisposable
    {
        private readonly StreamReader _reader = new(client.GetStream(), Encoding.UTF8);

        /// <summary>Sends an inline command and returns the first reply line; null when the server closed the connection.</summary>
        public async Task<string?> SendAsync(string inline)
        {
            try
            {
                await client.GetStream().WriteAsync(Encoding.UTF8.GetBytes(inline + "\r\n"));
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                return await _reader.ReadLineAsync(timeout.Token);
            }
            catch (IOException)
            {
                return null;
            }
        }

        public void Dispose()
        {
            _reader.Dispose();
            client.Dispose();
        }
    }
}
