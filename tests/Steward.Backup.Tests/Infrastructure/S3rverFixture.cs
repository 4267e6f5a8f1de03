using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Steward.Backup.Storage.S3;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>
/// Starts npm's s3rver (pinned in tests/tools/package.json) on a free loopback port with a temporary directory, and
/// kills it by process id on dispose. Fails with install instructions when s3rver is not installed.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string Bucket = "steward-test";
    private readonly TempDirectory _directory = new();
    private Process? _process;

    public int Port { get; private set; }

    public Uri ServiceUrl => new($"http://127.0.0.1:{Port}");

    /// <summary>Where s3rver keeps its objects, as files.</summary>
    public string DataDirectory => _directory.Path;

    public S3StorageOptions Options(int maxErrorRetry = 1) => new()
    {
        ServiceUrl = ServiceUrl,
        Bucket = Bucket,
        AccessKey = "S3RVER",
        SecretKey = "S3RVER",
        PartSize = S3StorageOptions.MinimumPartSize,
        MaxErrorRetry = maxErrorRetry,
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    public async Task InitializeAsync()
    {
        Port = FreePort();
        await StartAsync();
    }

    /// <summary>Kills the server, as a crash would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>Starts the server again on the same port and directory.</summary>
    public async Task RestartAsync()
    {
        Kill();
        _process?.Dispose();
        await StartAsync();
    }

    private async Task StartAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "tests", "tools", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"s3rver is not installed ({script} missing). Install it with: cd tests/tools && npm ci");
        }

        var info = new ProcessStartInfo(Cli.Require("node"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     script, "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--directory", _directory.Path, "--silent", "--configure-bucket", Bucket,
                 })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAnsweringAsync();
    }

    private async Task WaitUntilAnsweringAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} while starting.");
            }

            try
            {
                using var response = await http.GetAsync(ServiceUrl);
                if ((int)response.StatusCode < 500)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("s3rver did not answer within 20 seconds.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}
