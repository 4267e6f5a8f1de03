using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Steward.Server.Tests.Configuration;

/// <summary>
/// Runs steward-server with exactly the given environment (no inherited STEWARD_* variables) and arguments,
/// for tests of how the broker takes its settings.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringWriter _output = new();

    private ServerProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static ServerProcess Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "steward-server.dll"));
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("STEWARD_", StringComparison.Ordinal)).ToList())
        {
            psi.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        var server = new ServerProcess(Process.Start(psi)!);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>The exit code, waiting at most a generous minute for a refusal on a busy machine.</summary>
    public async Task<int> ExitCodeAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(deadline.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the broker answers on <paramref name="url"/>; fails with its output if it exits first.</summary>
    public async Task<HttpResponseMessage> WaitAnswerAsync(HttpClient http, string url)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"steward-server exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                return await http.GetAsync(url);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"steward-server did not answer on {url} within 60 s:\n{Output}");
    }

    public static bool Listening(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Infrastructure.Processes.Kill(_process.Id, 15);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.WriteLine(line);
            }
        }
    }
}
