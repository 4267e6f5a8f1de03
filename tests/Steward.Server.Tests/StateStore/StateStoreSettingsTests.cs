using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Tests.Configuration;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.StateStore;

/// <summary>How an operator points the broker at PostgreSQL, and that the password in the setting shows nowhere.</summary>
[Collection("state-postgres")]
public sealed class StateStoreSettingsTests(StatePostgres postgres) : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task A_malformed_or_missing_PostgreSQL_connection_is_refused_by_name_without_echoing_it()
    {
        var secret = "pw-" + Guid.NewGuid().ToString("N");
        await using var malformed = Start(new() { ["STEWARD_STATE_STORE"] = "postgresql", ["STEWARD_STATE_POSTGRESQL"] = $"postgresql://u:{secret}@127.0.0.1:5432/db?no_such_option=1", ["STEWARD_LEASE_DURATION_MS"] = "soon" });
        (await malformed.ExitCodeAsync()).ShouldBe(2, malformed.Output);
        malformed.Output.ShouldContain("STEWARD_LEASE_DURATION_MS (--lease-duration-ms, or State:LeaseDurationMs in the --config file) = 'soon'");
        malformed.Output.ShouldContain("STEWARD_STATE_POSTGRESQL (State:Database in the --config file) = '<hidden>': its parameter 'no_such_option' is not one Npgsql knows");
        malformed.Output.ShouldNotContain(secret);

        await using var missing = Start(new() { ["STEWARD_STATE_STORE"] = "postgresql" });
        (await missing.ExitCodeAsync()).ShouldBe(2, missing.Output);
        missing.Output.ShouldContain("STEWARD_STATE_POSTGRESQL (State:Database in the --config file) = unset: required with STEWARD_STATE_STORE=postgresql");

        await using var ignored = Start(new() { ["STEWARD_STATE_POSTGRESQL"] = $"Host=127.0.0.1;Username=u;Password={secret}" });
        (await ignored.ExitCodeAsync()).ShouldBe(2, ignored.Output);
        ignored.Output.ShouldContain("STEWARD_STATE_STORE is not postgresql");
        ignored.Output.ShouldNotContain(secret);
    }

    [Fact]
    public async Task A_broker_refused_by_the_state_database_stops_and_its_output_holds_no_password()
    {
        var uri = await postgres.CreateDatabaseAsync();
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        await using var server = Start(new() { ["STEWARD_STATE_STORE"] = "postgresql", ["STEWARD_STATE_POSTGRESQL"] = uri.Replace(postgres.Password, wrong, StringComparison.Ordinal) });
        (await server.ExitCodeAsync()).ShouldBe(3, server.Output);
        server.Output.ShouldContain($"steward-server: not started: the state store (PostgreSQL at 127.0.0.1:{postgres.Port}/");
        server.Output.ShouldContain("password authentication failed for user \"steward_state\"");
        server.Output.ShouldNotContain("Exception");
        server.Output.ShouldNotContain(wrong);
        server.Output.ShouldNotContain(postgres.Password);
    }

    [Fact]
    public async Task A_broker_with_a_fresh_data_directory_and_so_another_credentials_key_is_refused_by_the_shared_store()
    {
        var uri = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string> { ["STEWARD_STATE_STORE"] = "postgresql", ["STEWARD_STATE_POSTGRESQL"] = uri };
        var port = ServerProcess.FreePort();
        await using (var first = Start(new(settings) { ["STEWARD_LISTEN"] = $"http://127.0.0.1:{port}" }))
        {
            using var http = new HttpClient();
            (await first.WaitAnswerAsync(http, $"http://127.0.0.1:{port}/readyz")).IsSuccessStatusCode.ShouldBeTrue(first.Output);
        }

        await using var second = Start(new(settings));
        (await second.ExitCodeAsync()).ShouldBe(3, second.Output);
        second.Output.ShouldContain("was written with another credentials key than credentials.key: give every broker that uses it the same key file");
        second.Output.ShouldNotContain(postgres.Password);
    }

    private ServerProcess Start(Dictionary<string, string> settings)
    {
        settings["STEWARD_DATA_DIR"] = Path.Combine(_root.Path, "data-" + Guid.NewGuid().ToString("N")[..6]);
        settings.TryAdd("STEWARD_LISTEN", $"http://127.0.0.1:{ServerProcess.FreePort()}");
        return ServerProcess.Start(_root.Path, settings);
    }
}
