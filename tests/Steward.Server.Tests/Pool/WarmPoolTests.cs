using System.Diagnostics;
using System.Text.RegularExpressions;
using Npgsql;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Pool;

/// <summary>
/// The warm pool of PostgreSQL data directories (docs/warm-pool.md), against a real broker and real servers: an
/// instance from the pool is the same as one made from scratch, an entry serves one instance only, a broker killed
/// while topping the pool up leaves nothing behind, and a new server version discards what the old one made.
/// </summary>
public sealed partial class WarmPoolTests
{
    private const string S = Catalogs.PostgreSql;
    private const string P = Catalogs.PostgreSqlStandalone;

    [Fact]
    public async Task An_instance_from_the_pool_is_the_same_as_one_from_scratch_and_each_entry_serves_one_instance()
    {
        await using var server = await StewardServer.StartAsync(Pool(size: 1));
        var entry = await ReadyEntryAsync(server, 0);
        var entryIdentifier = SystemIdentifier(Path.Combine(server.PoolDir, entry, "data"));

        // Two at once: one takes the entry, the other finds the pool empty and runs initdb itself.
        var a = "pool-a-" + Guid.NewGuid().ToString("N")[..8];
        var b = "pool-b-" + Guid.NewGuid().ToString("N")[..8];
        await Task.WhenAll(server.Client.ProvisionReadyAsync(a, S, P), server.Client.ProvisionReadyAsync(b, S, P));
        var takers = new[] { a, b }.Where(i => server.Log.Contains($"Instance {i} took warm pool entry {entry}", StringComparison.Ordinal)).ToList();
        takers.Count.ShouldBe(1, server.Log);
        var (pooled, scratch) = takers[0] == a ? (a, b) : (b, a);
        server.Log.ShouldContain($"instance {scratch} is initialised from scratch");
        Directory.Exists(Path.Combine(server.PoolDir, entry)).ShouldBeFalse("the entry's files moved into the instance");
        SystemIdentifier(await DataDirAsync(server, pooled)).ShouldBe(entryIdentifier);
        SystemIdentifier(await DataDirAsync(server, scratch)).ShouldNotBe(entryIdentifier);

        var fromPool = await FactsAsync(server, pooled);
        var fromScratch = await FactsAsync(server, scratch);
        fromPool.Keys.ShouldBe(fromScratch.Keys);
        foreach (var (fact, value) in fromScratch)
        {
            fromPool[fact].ShouldBe(value, $"{fact} differs between an instance from the pool and one from scratch");
        }

        fromPool["data_checksums"].ShouldBe("on");
        fromPool["server_encoding"].ShouldBe("UTF8");
        fromPool["lc_collate"].ShouldBe("C");

        // The pool is topped up with a new, different entry, and the next instance gets that one.
        var next = await ReadyEntryAsync(server, 1);
        next.ShouldNotBe(entry);
        var c = "pool-c-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.ProvisionReadyAsync(c, S, P);
        server.Log.ShouldContain($"Instance {c} took warm pool entry {next}");
        var identifiers = new List<string>();
        foreach (var i in new[] { pooled, scratch, c })
        {
            identifiers.Add(SystemIdentifier(await DataDirAsync(server, i)));
        }

        identifiers.Distinct().Count().ShouldBe(3, "every instance has its own system identifier");
        (await FactsAsync(server, c))["roles"].ShouldBe(fromScratch["roles"]);
    }

    [Fact]
    public async Task A_broker_killed_while_topping_up_the_pool_removes_the_half_made_entry_at_its_next_start()
    {
        await using var server = await StewardServer.StartAsync(Pool(size: 1, nice: 7));

        // Kill while initdb (or the database bootstrap) runs for the entry.
        var busy = await WaitForAsync(() => Processes.Under(server.PoolDir) is { Count: > 0 } pids ? pids : null);
        var entry = Directory.GetDirectories(server.PoolDir).Single();
        busy.Select(Niceness).ShouldAllBe(n => n == 7, "the pool's tools run at STEWARD_POOL_NICE");
        await server.KillAsync();

        await server.StartProcessAsync();
        await WaitForAsync(() => Directory.Exists(entry) ? null : "gone");
        Processes.Under(entry).ShouldBeEmpty("the orphaned tool is stopped with its entry");
        server.Log.ShouldContain($"Warm pool entry {Path.GetFileName(entry)} removed: left half made");
        (await ReadyEntryAsync(server, 0)).ShouldNotBe(Path.GetFileName(entry));
        Directory.GetDirectories(server.PoolDir).Length.ShouldBe(1);
    }

    [Fact]
    public async Task A_new_server_version_discards_the_entries_made_with_the_old_one()
    {
        await using var server = await StewardServer.StartAsync(Pool(size: 1));
        var old = await ReadyEntryAsync(server, 0);
        await server.KillAsync();

        // The same binaries, except that postgres reports another version: what initdb made before is not used.
        var bin = FakeVersionBinDir(server.Root, "postgres (PostgreSQL) 15.99");
        await server.StartProcessAsync(new Dictionary<string, string> { ["STEWARD_POSTGRESQL_BIN_DIR"] = bin });
        await WaitForAsync(() => Directory.Exists(Path.Combine(server.PoolDir, old)) ? null : "gone");
        server.Log.ShouldContain($"Warm pool entry {old} removed: made with another server version or initialisation");
        var made = await ReadyEntryAsync(server, 1);

        var id = "pool-v-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.ProvisionReadyAsync(id, S, P);
        server.Log.ShouldContain($"Instance {id} took warm pool entry {made}");
        var uri = (await server.Client.BindReadyAsync(id, "b-" + id, S, P)).GetProperty("uri").GetString()!;
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ToKeyValues(uri)) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", conn);
        (await cmd.ExecuteScalarAsync()).ShouldBe(1);
    }

    [Fact]
    public async Task A_provision_from_the_pool_interrupted_by_kill_9_finishes_after_restart_on_the_entry_it_took()
    {
        await using var server = await StewardServer.StartAsync(Pool(size: 1));
        var entry = await ReadyEntryAsync(server, 0);
        var identifier = SystemIdentifier(Path.Combine(server.PoolDir, entry, "data"));
        var id = "pool-k-" + Guid.NewGuid().ToString("N")[..8];
        var started = await server.Client.ProvisionAsync(id, S, P);

        // Killed as soon as the instance has its directory: while it takes the entry, or just after.
        await WaitForAsync(() => server.InstanceDirectories().Count == 1 ? "created" : null);
        await server.KillAsync();
        await server.StartProcessAsync();
        var done = await server.Client.WaitAsync(id, started.Str("operation"));
        done.Str("state").ShouldBe("succeeded", done.ToString());
        SystemIdentifier(await DataDirAsync(server, id)).ShouldBe(identifier, "the instance runs on the entry it took");
        Directory.Exists(Path.Combine(server.PoolDir, entry)).ShouldBeFalse();
        server.ServerProcesses().Count(c => c.Contains("postgres -D", StringComparison.Ordinal)).ShouldBe(1, string.Join('\n', server.ServerProcesses()));
        var uri = (await server.Client.BindReadyAsync(id, "b-" + id, S, P)).GetProperty("uri").GetString()!;
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ToKeyValues(uri)) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
    }

    private static Dictionary<string, string> Pool(int size, int nice = 0) => new()
    {
        ["STEWARD_POOL_POSTGRESQL_SIZE"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["STEWARD_POOL_NICE"] = nice.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The name of the <paramref name="index"/>-th entry the broker reported ready.</summary>
    private static Task<string> ReadyEntryAsync(StewardServer server, int index) =>
        WaitForAsync(() => ReadyLine().Matches(server.Log) is { } m && m.Count > index ? m[index].Groups[1].Value : null);

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                throw new TimeoutException("condition not met within 120 s");
            }

            await Task.Delay(20);
        }
    }

    private static async Task<string> DataDirAsync(StewardServer server, string id) =>
        Path.Combine((await server.Client.ApiAsync($"/instances/{id}")).Body.GetProperty("directory").GetString()!, "data");

    private static string SystemIdentifier(string dataDir)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pg_controldata")).First(File.Exists);
        using var process = Process.Start(new ProcessStartInfo(bin, ["-D", dataDir]) { RedirectStandardOutput = true, Environment = { ["LC_ALL"] = "C" } })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var identifier = SystemIdentifierLine().Match(output).Groups[1].Value;
        identifier.ShouldNotBeNullOrEmpty(output);
        return identifier;
    }

    /// <summary>What an application sees of the instance, through a binding: settings, roles, databases, ownership.</summary>
    private static async Task<Dictionary<string, string>> FactsAsync(StewardServer server, string id)
    {
        var uri = (await server.Client.BindReadyAsync(id, "facts-" + id, S, P)).GetProperty("uri").GetString()!;
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ToKeyValues(uri)) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        var facts = new Dictionary<string, string>();
        var directory = Path.GetDirectoryName(await DataDirAsync(server, id))!;
        foreach (var name in new[] { "data_checksums", "server_encoding", "lc_collate", "lc_ctype", "server_version" })
        {
            facts[name] = await ScalarAsync(conn, $"SHOW {name}");
        }

        await using (var settings = new NpgsqlCommand("SELECT name, setting FROM pg_settings WHERE name NOT IN ('port', 'data_directory', 'config_file', 'hba_file', 'ident_file')", conn))
        await using (var reader = await settings.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                // Commands name the instance's own directory (WAL archiving): the same once that is taken out.
                facts["setting " + reader.GetString(0)] = reader.IsDBNull(1) ? "<null>" : reader.GetString(1).Replace(directory, "<instance>", StringComparison.Ordinal);
            }
        }

        facts["roles"] = await ScalarAsync(conn, "SELECT string_agg(concat_ws('/', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit), ', ' ORDER BY rolname) FROM pg_roles WHERE rolname <> session_user");
        facts["databases"] = await ScalarAsync(conn, "SELECT string_agg(concat_ws('/', datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype, datallowconn, datacl::text), ', ' ORDER BY datname) FROM pg_database");
        facts["schemas"] = await ScalarAsync(conn, "SELECT string_agg(nspname || '/' || pg_get_userbyid(nspowner) || '/' || coalesce(nspacl::text, ''), ', ' ORDER BY nspname) FROM pg_namespace");
        facts["tables"] = await ScalarAsync(conn, "SELECT count(*)::text FROM pg_class WHERE relnamespace = 'public'::regnamespace");
        return facts;
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (await cmd.ExecuteScalarAsync())?.ToString() ?? "<null>";
    }

    private static string ToKeyValues(string uri)
    {
        var u = new Uri(uri);
        var userInfo = u.UserInfo.Split(':', 2);
        return $"Host={u.Host};Port={u.Port};Username={Uri.UnescapeDataString(userInfo[0])};Password={Uri.UnescapeDataString(userInfo[1])};Database={u.AbsolutePath.TrimStart('/')}";
    }

    private static int Niceness(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A directory of links to the real PostgreSQL binaries, with a postgres that reports <paramref name="version"/>.</summary>
    private static string FakeVersionBinDir(string root, string version)
    {
        var real = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).First(d => File.Exists(Path.Combine(d, "postgres")));
        var dir = Path.Combine(root, "pgbin");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        foreach (var file in Directory.GetFiles(real).Where(f => Path.GetFileName(f) != "postgres"))
        {
            File.CreateSymbolicLink(Path.Combine(dir, Path.GetFileName(file)), file);
        }

        var postgres = Path.Combine(dir, "postgres");
        File.WriteAllText(postgres, $"#!/bin/sh\ncase \"$1\" in --version|-V) echo '{version}'; exit 0;; esac\nexec {Path.Combine(real, "postgres")} \"$@\"\n");
        File.SetUnixFileMode(postgres, (UnixFileMode)0b111_101_101);
        return dir;
    }

    [GeneratedRegex(@"Warm pool entry (pool-[0-9a-f]+) of postgresql ready")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"Database system identifier:\s+(\d+)")]
    private static partial Regex SystemIdentifierLine();
}
