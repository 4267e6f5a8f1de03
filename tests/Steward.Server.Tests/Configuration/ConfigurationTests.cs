using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Server.Tests.Configuration;

/// <summary>How an operator configures the broker: environment, a --config file, the command line, and refusals.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly TempDirectory _root = new();

    [Fact]
    public async Task Invalid_settings_stop_the_broker_before_it_listens_with_one_line_per_setting()
    {
        var port = ServerProcess.FreePort();
        var dataDir = Path.Combine(_root.Path, "data");
        await using var server = ServerProcess.Start(_root.Path, new Dictionary<string, string>
        {
            ["STEWARD_DATA_DIR"] = dataDir,
            ["STEWARD_LISTEN"] = $"http://127.0.0.1:{port}",
            ["STEWARD_PORT_RANGE"] = "9000-3000",
            ["STEWARD_BACKUP_COMPRESSION"] = "lz4",
            ["STEWARD_BACKUP_ZSTD_LEVEL"] = "42",
            ["STEWARD_HEALTH_FAILURES"] = "three",
            ["STEWARD_BACKUP_S3_BUCKET"] = "backups",
            ["STEWARD_BACKUP_S3_SECRET_ACCESS_KEY"] = "do-not-print-me",
        });

        (await server.ExitCodeAsync()).ShouldBe(2, server.Output);
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string Line(string setting) => lines.SingleOrDefault(l => l.StartsWith(setting + " ", StringComparison.Ordinal))
            ?? throw new ShouldAssertException($"no line for {setting} in:\n{server.Output}");
        Line("STEWARD_PORT_RANGE").ShouldContain("'9000-3000'");
        Line("STEWARD_PORT_RANGE").ShouldContain("allowed: MIN-MAX with 1024 ≤ MIN ≤ MAX ≤ 65535");
        Line("STEWARD_BACKUP_COMPRESSION").ShouldContain("allowed: zstd, gzip, none");
        Line("STEWARD_BACKUP_ZSTD_LEVEL").ShouldContain("allowed: a whole number from 1 to 19");
        Line("STEWARD_HEALTH_FAILURES").ShouldContain("'three'");
        Line("STEWARD_BACKUP_S3_ENDPOINT").ShouldContain("required with STEWARD_BACKUP_S3_BUCKET");
        Line("STEWARD_BACKUP_S3_ACCESS_KEY_ID").ShouldContain("required with STEWARD_BACKUP_S3_BUCKET");
        lines.Count(l => l.StartsWith("STEWARD_", StringComparison.Ordinal)).ShouldBe(6, "one line per invalid setting, nothing for the valid ones");
        server.Output.ShouldNotContain("do-not-print-me");
        server.Output.ShouldNotContain("Exception");
        ServerProcess.Listening(port).ShouldBeFalse("a refused configuration never listens");
        Directory.Exists(dataDir).ShouldBeFalse("a refused configuration changes nothing on disk");
    }

    [Fact]
    public async Task Unknown_options_and_unknown_config_file_keys_are_refused_by_name()
    {
        var file = Path.Combine(_root.Path, "steward.json");
        await File.WriteAllTextAsync(file, """{ "PortRange": "31000-31099", "Bakup": { "Compression": "gzip" } }""");
        await using var server = ServerProcess.Start(_root.Path, new Dictionary<string, string>(), "--config", file, "--prot-range", "1-2");

        (await server.ExitCodeAsync()).ShouldBe(2, server.Output);
        server.Output.ShouldContain("unknown option --prot-range; the options are");
        server.Output.ShouldContain("unknown setting 'Bakup:Compression'");
        server.Output.ShouldNotContain("PortRange'", customMessage: "a known key is not reported");
    }

    [Fact]
    public async Task A_config_file_sets_the_broker_up_and_the_command_line_overrides_it()
    {
        var filePort = ServerProcess.FreePort();
        var argPort = ServerProcess.FreePort();
        var file = Path.Combine(_root.Path, "steward.json");
        var settings = new
        {
            DataDir = Path.Combine(_root.Path, "from-file"),
            Listen = $"http://127.0.0.1:{filePort}",
            PortRange = "31000-31099",
            BrokerUsername = "platform",
            BrokerPassword = "file-secret",
            Backup = new { Compression = "gzip", Encryption = "none" },
        };
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(settings));
        await using var server = ServerProcess.Start(_root.Path, new Dictionary<string, string>(), "--config", file, "--listen", $"http://127.0.0.1:{argPort}");

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("platform:file-secret")));
        http.DefaultRequestHeaders.Add("X-Broker-API-Version", "2.17");
        using var catalog = await server.WaitAnswerAsync(http, $"http://127.0.0.1:{argPort}/v2/catalog");
        catalog.StatusCode.ShouldBe(HttpStatusCode.OK, "the file's broker credentials are in force");
        ServerProcess.Listening(filePort).ShouldBeFalse("--listen on the command line overrides the file's Listen");
        File.Exists(Path.Combine(settings.DataDir, "steward.db")).ShouldBeTrue("the file's DataDir is in force");
        File.Exists(Path.Combine(settings.DataDir, "broker-credentials")).ShouldBeFalse("credentials from settings are not written to a file");
    }

    public void Dispose() => _root.Dispose();
}
