using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.HighAvailability;

/// <summary>One instance on an ha plan (PostgreSQL unless told), as a test sees it through the broker's API and the servers themselves.</summary>
public sealed class HaInstance
{
    public const string HaPlan = "3f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

    public const string RedisHaPlan = "e6f7a8b9-c0d1-4e2f-9a3b-4c5d6e7f8091";

    private readonly StewardServer _broker;
    private readonly string _service;
    private readonly string _plan;

    private HaInstance(StewardServer broker, string id, JsonElement credentials, string service, string plan)
    {
        _broker = broker;
        Id = id;
        Credentials = credentials;
        _service = service;
        _plan = plan;
    }

    public string Id { get; }

    public JsonElement Credentials { get; }

    public string Uri => Credentials.GetProperty("uri").GetString()!;

    public static async Task<HaInstance> CreateAsync(StewardServer broker, string service = Catalogs.PostgreSql, string plan = HaPlan, object? parameters = null)
    {
        var id = "ha-" + Guid.NewGuid().ToString("N")[..8];
        await broker.Client.ProvisionReadyAsync(id, service, plan, parameters);
        var credentials = await broker.Client.BindReadyAsync(id, "b-" + id, service, plan);
        var instance = new HaInstance(broker, id, credentials, service, plan);
        await instance.WaitAsync("two standbys streaming", m => m.Count(x => x.Role == "standby" && x.State == "streaming") == 2);
        return instance;
    }

    /// <summary>An instance that became highly available by a plan change, with the credentials of an existing binding.</summary>
    public static HaInstance Attach(StewardServer broker, string id, JsonElement credentials, string service, string plan) => new(broker, id, credentials, service, plan);

    public async Task<IReadOnlyList<Member>> MembersAsync()
    {
        var reply = await _broker.Client.ApiAsync($"/instances/{Id}/members");
        reply.Status.ShouldBe(System.Net.HttpStatusCode.OK, reply.ToString());
        return [.. reply.Body.GetProperty("members").EnumerateArray().Select(m => new Member(
            m.GetProperty("name").GetString()!,
            m.GetProperty("role").GetString()!,
            m.GetProperty("state").GetString()!,
            m.GetProperty("port").GetInt32(),
            m.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32() : null,
            m.GetProperty("directory").GetString()!,
            m.TryGetProperty("lag_bytes", out var lag) && lag.ValueKind == JsonValueKind.Number ? lag.GetInt64() : null))];
    }

    public async Task<Member> PrimaryAsync() => (await MembersAsync()).Single(m => m.Role == "primary");

    /// <summary>Polls the member list until <paramref name="condition"/> holds.</summary>
    public async Task<IReadOnlyList<Member>> WaitAsync(string what, Func<IReadOnlyList<Member>, bool> condition, int seconds = 90)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var members = await MembersAsync();
            if (condition(members))
            {
                return members;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException($"{Id}: not '{what}' within {seconds} s: {string.Join("; ", members)}\n{_broker.Log[^Math.Min(_broker.Log.Length, 6000)..]}");
            }

            await Task.Delay(100);
        }
    }

    public async Task<IReadOnlyList<JsonElement>> IncidentsAsync() =>
        [.. (await _broker.Client.ApiAsync($"/incidents?instance={Id}")).Body.GetProperty("incidents").EnumerateArray()];

    /// <summary>Every id in the writes table, read through the endpoint (the primary).</summary>
    public async Task<HashSet<long>> StoredIdsAsync()
    {
        await using var conn = new NpgsqlConnection(WriteLoad.ToConnectionString(Uri));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT id FROM writes", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var ids = new HashSet<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>Asks one member's server directly (with the binding's credentials) whether it is a primary; null when it does not answer.</summary>
    public async Task<bool?> AcceptsWritesAsync(int port)
    {
        var csb = new NpgsqlConnectionStringBuilder(WriteLoad.ToConnectionString(Uri)) { Port = port, Pooling = false, Timeout = 2 };
        try
        {
            await using var conn = new NpgsqlConnection(csb.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT NOT pg_is_in_recovery()", conn);
            return (bool)(await cmd.ExecuteScalarAsync())!;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    /// <summary>A setting as one member's server runs it right now (<c>SHOW</c>, with the binding's credentials); null when it does not answer.</summary>
    public async Task<string?> ShowAsync(int port, string setting)
    {
        var csb = new NpgsqlConnectionStringBuilder(WriteLoad.ToConnectionString(Uri)) { Port = port, Pooling = false, Timeout = 5 };
        try
        {
            await using var conn = new NpgsqlConnection(csb.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"SHOW {setting}", conn);
            return (string?)await cmd.ExecuteScalarAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    public async Task DeleteAsync()
    {
        var done = await _broker.Client.WaitAsync(Id, (await _broker.Client.DeprovisionAsync(Id, _service, _plan)).Str("operation"));
        (done.Status == System.Net.HttpStatusCode.Gone || done.Str("state") == "succeeded").ShouldBeTrue(done.ToString());
    }
}

public sealed record Member(string Name, string Role, string State, int Port, int? Pid, string Directory, long? LagBytes);
