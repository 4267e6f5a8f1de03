using System.Net;
using System.Text;
using Npgsql;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

[Collection("broker")]
public sealed class PostgreSqlLifecycleTests(BrokerFixture broker)
{
    private const string S = Catalogs.PostgreSql;
    private const string P = Catalogs.PostgreSqlStandalone;
    private OsbClient Osb => broker.Client;

    [Fact]
    public async Task A_PostgreSQL_instance_is_provisioned_bound_used_unbound_and_deleted()
    {
        var id = "pg-" + Guid.NewGuid().ToString("N");
        var identity = "cloudfoundry " + Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"user_id\":\"dev-42\"}"));
        var started = await Osb.ProvisionAsync(id, S, P, new { max_connections = 40 }, headers: new Dictionary<string, string> { ["X-Broker-API-Originating-Identity"] = identity });
        started.Status.ShouldBe(HttpStatusCode.Accepted);
        var operation = started.Str("operation").ShouldNotBeNull();

        // While provisioning: the same request again is accepted with the same operation; a different one conflicts.
        var again = await Osb.ProvisionAsync(id, S, P, new { max_connections = 40 });
        if (again.Status == HttpStatusCode.Accepted)
        {
            again.Str("operation").ShouldBe(operation);
        }
        else
        {
            again.Status.ShouldBe(HttpStatusCode.OK, "an identical request is 202 while in progress or 200 once done");
        }

        (await Osb.ProvisionAsync(id, S, P, new { max_connections = 41 })).Status.ShouldBe(HttpStatusCode.Conflict);

        var done = await Osb.WaitAsync(id, operation);
        done.Str("state").ShouldBe("succeeded", done.ToString());
        (await Osb.ProvisionAsync(id, S, P, new { max_connections = 40 })).Status.ShouldBe(HttpStatusCode.OK);

        var fetched = await Osb.GetInstanceAsync(id);
        fetched.Status.ShouldBe(HttpStatusCode.OK);
        fetched.Str("plan_id").ShouldBe(P);
        fetched.Body.GetProperty("parameters").GetProperty("max_connections").GetInt32().ShouldBe(40);
        fetched.Body.GetProperty("maintenance_info").GetProperty("version").GetString().ShouldBe("1.0.0");
        fetched.Text.ShouldNotContain("password", Case.Insensitive);

        var shown = await Osb.ApiAsync($"/instances/{id}");
        shown.Body.GetProperty("last_operation").GetProperty("originating_identity").GetString().ShouldBe(identity);
        shown.Body.GetProperty("process").GetProperty("status").GetString().ShouldBe("running");

        var credentials = await Osb.BindReadyAsync(id, "b1-" + id, S, P);
        foreach (var key in new[] { "uri", "host", "port", "username", "password", "database" })
        {
            credentials.TryGetProperty(key, out _).ShouldBeTrue($"credentials lack '{key}'");
        }

        credentials.GetProperty("host").GetString().ShouldBe("127.0.0.1");
        var uri = credentials.GetProperty("uri").GetString()!;
        await using (var conn = await OpenAsync(uri))
        {
            await ExecAsync(conn, "CREATE TABLE notes (id int PRIMARY KEY, body text)");
            await ExecAsync(conn, "INSERT INTO notes VALUES (1, 'hello')");
            (await ScalarAsync(conn, "SELECT body FROM notes WHERE id = 1")).ShouldBe("hello");
            (await ScalarAsync(conn, "SHOW max_connections")).ShouldBe("40");
            (await ScalarAsync(conn, "SHOW listen_addresses")).ShouldBe("127.0.0.1");
            (await ScalarAsync(conn, "SHOW data_checksums")).ShouldBe("on", "a damaged page must be detected when read");
        }

        // Same binding again: 200 with the same credentials; same id with other parameters: 409.
        var rebind = await Osb.BindAsync(id, "b1-" + id, S, P);
        rebind.Status.ShouldBe(HttpStatusCode.OK);
        rebind.Body.GetProperty("credentials").GetProperty("password").GetString().ShouldBe(credentials.GetProperty("password").GetString());
        (await Osb.BindAsync(id, "b1-" + id, S, P, new { read_only = true })).Status.ShouldBe(HttpStatusCode.Conflict);
        (await Osb.GetBindingAsync(id, "b1-" + id)).Status.ShouldBe(HttpStatusCode.OK);

        // A second, read-only binding sees the first binding's table but cannot change it.
        var reader = await Osb.BindReadyAsync(id, "b2-" + id, S, P, new { read_only = true });
        await using (var conn = await OpenAsync(reader.GetProperty("uri").GetString()!))
        {
            (await ScalarAsync(conn, "SELECT body FROM notes WHERE id = 1")).ShouldBe("hello");
            var denied = await Should.ThrowAsync<PostgresException>(() => ExecAsync(conn, "INSERT INTO notes VALUES (2, 'no')"));
            denied.SqlState.ShouldBe("42501");
        }

        // Unbind: an open session is ended and the password stops working.
        var open = await OpenAsync(uri);
        (await Osb.UnbindAsync(id, "b1-" + id, S, P)).Status.ShouldBe(HttpStatusCode.OK);
        (await Should.ThrowAsync<Exception>(() => ScalarAsync(open, "SELECT 1"))).ShouldBeEndedByTheServer();
        await open.DisposeAsync();
        var rejected = await Should.ThrowAsync<PostgresException>(() => OpenAsync(uri));
        rejected.SqlState.ShouldBe("28P01");
        (await Osb.UnbindAsync(id, "b1-" + id, S, P)).Status.ShouldBe(HttpStatusCode.Gone);
        (await Osb.GetBindingAsync(id, "b1-" + id)).Status.ShouldBe(HttpStatusCode.NotFound);

        // Data written through the removed binding stays: it belongs to the application's owner role.
        await using (var conn = await OpenAsync(reader.GetProperty("uri").GetString()!))
        {
            (await ScalarAsync(conn, "SELECT count(*) FROM notes")).ShouldBe("1");
        }

        var directory = shown.Body.GetProperty("directory").GetString()!;
        Processes.Under(directory).ShouldNotBeEmpty();
        var delete = await Osb.DeprovisionAsync(id, S, P);
        delete.Status.ShouldBe(HttpStatusCode.Accepted);
        var gone = await Osb.WaitAsync(id, delete.Str("operation"));
        gone.Status.ShouldBe(HttpStatusCode.Gone, gone.ToString());
        (await Osb.DeprovisionAsync(id, S, P)).Status.ShouldBe(HttpStatusCode.Gone);
        (await Osb.GetInstanceAsync(id)).Status.ShouldBe(HttpStatusCode.NotFound);
        Processes.Under(directory).ShouldBeEmpty();
        Directory.Exists(directory).ShouldBeFalse();
        (await Should.ThrowAsync<Exception>(() => OpenAsync(reader.GetProperty("uri").GetString()!))).ShouldBeNoServerForTheseCredentials();
    }

    [Fact]
    public async Task Updating_the_plan_restarts_the_server_with_the_new_limits_and_keeps_the_data()
    {
        var id = "pgu-" + Guid.NewGuid().ToString("N");
        await Osb.ProvisionReadyAsync(id, S, P);
        var uri = (await Osb.BindReadyAsync(id, "b-" + id, S, P)).GetProperty("uri").GetString()!;
        await using (var conn = await OpenAsync(uri))
        {
            await ExecAsync(conn, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");
            (await ScalarAsync(conn, "SHOW max_connections")).ShouldBe("100");
        }

        (await Osb.UpdateAsync(id, S, P, new { statement_timeout_ms = 1500 }, acceptsIncomplete: false)).Error.ShouldBe("AsyncRequired");
        (await Osb.UpdateAsync(id, S, Catalogs.PostgreSqlLarge, new { max_connections = 250, work_mem_kb = 16384 })).Status.ShouldBe(HttpStatusCode.Accepted);
        (await Osb.WaitAsync(id)).Str("state").ShouldBe("succeeded");
        await using (var conn = await OpenAsync(uri))
        {
            (await ScalarAsync(conn, "SHOW max_connections")).ShouldBe("250");
            (await ScalarAsync(conn, "SHOW work_mem")).ShouldBe("16MB");
            (await ScalarAsync(conn, "SELECT v FROM kept")).ShouldBe("7");
        }

        (await Osb.GetInstanceAsync(id)).Str("plan_id").ShouldBe(Catalogs.PostgreSqlLarge);

        // A value the target plan does not allow is refused and changes nothing.
        var refused = await Osb.UpdateAsync(id, S, P);
        refused.Status.ShouldBe(HttpStatusCode.BadRequest, "250 connections exceed the standalone plan's 100");
        refused.Str("description").ShouldNotBeNull().ShouldContain("max_connections");
        (await Osb.GetInstanceAsync(id)).Str("plan_id").ShouldBe(Catalogs.PostgreSqlLarge);

        // An update that changes nothing is answered 200 at once.
        (await Osb.UpdateAsync(id, S, null, new { max_connections = 250, work_mem_kb = 16384 })).Status.ShouldBe(HttpStatusCode.OK);
        await Osb.DeprovisionAsync(id, S, Catalogs.PostgreSqlLarge);
        (await Osb.WaitAsync(id)).Status.ShouldBe(HttpStatusCode.Gone);
    }

    internal static async Task<NpgsqlConnection> OpenAsync(string uri)
    {
        var u = new Uri(uri);
        var userInfo = u.UserInfo.Split(':');
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = u.Host,
            Port = u.Port,
            Username = Uri.UnescapeDataString(userInfo[0]),
            Password = Uri.UnescapeDataString(userInfo[1]),
            Database = u.AbsolutePath.TrimStart('/'),
            Pooling = false,
        };
        var conn = new NpgsqlConnection(csb.ConnectionString);
        await conn.OpenAsync();
        return conn;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (await cmd.ExecuteScalarAsync())?.ToString();
    }
}
