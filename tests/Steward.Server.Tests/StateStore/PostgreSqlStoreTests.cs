using Npgsql;
using Steward.Security;
using Steward.Server.Tests.Infrastructure;
using Steward.State.PostgreSql;

namespace Steward.Server.Tests.StateStore;

/// <summary>What only the PostgreSQL store has: a shared database brokers start against together, a key check, a password kept out of sight.</summary>
public sealed class PostgreSqlStoreTests(StatePostgres postgres) : StoreTests(postgres)
{
    [Fact]
    public async Task Brokers_starting_together_on_one_database_create_the_schema_once_and_share_the_state()
    {
        var uri = await Postgres.CreateDatabaseAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () => (await Stores.CreateAsync("postgresql", uri)).Store)));
        await stores[0].SaveOperationAsync(new Steward.Operations.Operation { Id = "op", InstanceId = "i", Kind = Steward.Operations.OperationKind.Provision, State = Steward.Operations.OperationState.InProgress, Description = "d", CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch }, default);
        (await stores[3].ListInProgressOperationsAsync(default)).Single().Id.ShouldBe("op", "what one broker wrote, another resumes");
    }

    [Fact]
    public async Task A_broker_with_another_credentials_key_is_refused_at_start_with_a_message_that_names_the_key_file()
    {
        var (_, uri) = await Stores.CreateAsync("postgresql");
        var otherDir = Path.Combine(Path.GetTempPath(), "steward-tests", "otherkey-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(otherDir);
        try
        {
            var other = CredentialKey.LoadOrCreate(Path.Combine(otherDir, CredentialKey.FileName));
            var ex = await Should.ThrowAsync<InvalidOperationException>(() => Stores.CreateAsync("postgresql", uri, other));
            ex.Message.ShouldContain(CredentialKey.FileName);
            ex.Message.ShouldNotContain(Postgres.Password);
        }
        finally
        {
            Directory.Delete(otherDir, recursive: true);
        }
    }

    [Fact]
    public async Task The_password_shows_in_no_description_and_no_error_whatever_form_the_connection_takes()
    {
        var uri = await Postgres.CreateDatabaseAsync();
        PostgreSqlConnection.TryParse(uri, out var parsed, out _).ShouldBeTrue();
        parsed!.ToString().ShouldNotContain(Postgres.Password);
        parsed.Description.ShouldBe($"127.0.0.1:{Postgres.Port}/{uri[(uri.LastIndexOf('/') + 1)..]} as steward_state");

        PostgreSqlConnection.TryParse(uri + "?sslmode=disable&timeout=5", out var withOptions, out _).ShouldBeTrue("query parameters are Npgsql's keywords");
        await using (var options = new PostgreSqlStateStore(withOptions!, Stores.Key))
        {
            await options.InitializeAsync(default);
        }

        PostgreSqlConnection.TryParse($"Host=127.0.0.1;Password={Postgres.Password};Nonsense=1", out _, out var problem).ShouldBeFalse();
        problem.ShouldNotContain(Postgres.Password);
        PostgreSqlConnection.TryParse($"postgresql://steward_state:{Postgres.Password}@127.0.0.1:{Postgres.Port}/db?nonsense=1", out _, out problem).ShouldBeFalse();
        problem.ShouldNotContain(Postgres.Password);

        // A wrong password: the server's refusal names the user, never what was tried.
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        PostgreSqlConnection.TryParse(Postgres.Uri("postgres", wrong), out var refused, out _).ShouldBeTrue();
        await using var store = new PostgreSqlStateStore(refused!, Stores.Key);
        var ex = await Should.ThrowAsync<PostgresException>(() => store.InitializeAsync(default));
        ex.SqlState.ShouldBe("28P01");
        ex.ToString().ShouldNotContain(wrong);
    }
}
