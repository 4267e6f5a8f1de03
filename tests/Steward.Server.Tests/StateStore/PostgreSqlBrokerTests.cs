using System.Diagnostics;
using System.Net;
using Npgsql;
using Steward.Server.Tests.Infrastructure;
using Steward.Server.Tests.Lifecycle;
using static Steward.Server.Tests.StateStore.StateBrokers;

namespace Steward.Server.Tests.StateStore;

/// <summary>
/// A real broker whose state is in a real PostgreSQL: the whole life of an instance, and the durable-operation guarantee
/// across a kill -9. Each test owns its broker and its database.
/// </summary>
[Collection("state-postgres")]
public sealed class PostgreSqlBrokerTests(StatePostgres postgres)
{
    private const string S = Catalogs.PostgreSql;
    private const string P = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task A_broker_on_PostgreSQL_provisions_binds_and_deprovisions_with_no_state_file_and_no_password_in_its_log()
    {
        var uri = await postgres.CreateDatabaseAsync();
        await using var server = await StewardServer.StartAsync(OnPostgreSql(uri));
        var id = "pgstate-" + Guid.NewGuid().ToString("N")[..8];

        await server.Client.ProvisionReadyAsync(id, S, P);
        var children = Processes.Under(Path.Combine(server.DataDir, "instances"));
        children.ShouldNotBeEmpty();
        foreach (var pid in children)
        {
            (File.ReadAllText($"/proc/{pid}/environ") + Processes.CommandLine(pid)).Contains(postgres.Password, StringComparison.Ordinal).ShouldBeFalse("no child process gets the state store's password");
        }

        (await File.ReadAllTextAsync($"/proc/{server.Pid}/cmdline")).ShouldNotContain(postgres.Password);
        var credentials = await server.Client.BindReadyAsync(id, "b-" + id, S, P);
        await using (var conn = await PostgreSqlLifecycleTests.OpenAsync(credentials.GetProperty("uri").GetString()!))
        {
            conn.State.ShouldBe(System.Data.ConnectionState.Open);
        }

        (await server.Client.UnbindAsync(id, "b-" + id, S, P)).Status.ShouldBe(HttpStatusCode.OK);
        await server.Client.DeprovisionGoneAsync(id, S, P);

        (await StateAsync(uri, $"SELECT state FROM instances WHERE id = '{id}'")).ShouldBe("Deleted", "the state is in PostgreSQL");
        (await StateAsync(uri, $"SELECT count(*)::text FROM operations WHERE instance_id = '{id}' AND state = 'Succeeded'")).ShouldBe("4");
        File.Exists(Path.Combine(server.DataDir, "steward.db")).ShouldBeFalse("no SQLite file beside it");
        File.Exists(Path.Combine(server.DataDir, Steward.Security.CredentialKey.FileName)).ShouldBeTrue("the credentials key stays in the data directory");
        server.Log.ShouldContain($"State in PostgreSQL at 127.0.0.1:{postgres.Port}/");
        server.Log.ShouldNotContain(postgres.Password);
        var ready = await server.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false);
        (ready.Status, ready.Str("role")).ShouldBe((HttpStatusCode.OK, "active"));
    }

    [Fact]
    public async Task A_provision_interrupted_by_kill_9_is_finished_by_the_next_start_from_the_PostgreSQL_store()
    {
        var uri = await postgres.CreateDatabaseAsync();
        await using var server = await StewardServer.StartAsync(OnPostgreSql(uri));
        var id = "pgcrash-" + Guid.NewGuid().ToString("N")[..8];
        var started = await server.Client.ProvisionAsync(id, S, P);
        started.Status.ShouldBe(HttpStatusCode.Accepted);

        // Kill while initdb runs (the data directory exists but the server is not up yet).
        await WaitUntilAsync(() => Task.FromResult(server.InstanceDirectories().Count == 1));
        await server.KillAsync();
        (await StateAsync(uri, $"SELECT state FROM operations WHERE instance_id = '{id}'")).ShouldBe("InProgress");

        // The dead broker still holds the lease: the new process takes it when it has not been renewed for its duration.
        await server.StartProcessAsync(standby: true);
        await WaitUntilAsync(async () => (await server.Client.SendAsync(HttpMethod.Get, "/readyz", version: null, authenticate: false)).Status == HttpStatusCode.OK);
        var done = await server.Client.WaitAsync(id, started.Str("operation"));
        done.Str("state").ShouldBe("succeeded", done.ToString() + "\n" + server.Log);
        server.Log.ShouldContain("Resuming operation");
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal)).ShouldBe(1);
        var credentials = await server.Client.BindReadyAsync(id, "b-" + id, S, P);
        await using var conn = await PostgreSqlLifecycleTests.OpenAsync(credentials.GetProperty("uri").GetString()!);
        conn.State.ShouldBe(System.Data.ConnectionState.Open);
    }
}
