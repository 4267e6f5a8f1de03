using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.CommandLine;

/// <summary>
/// Output a person copies is never wrapped or cut: ids, URIs and credentials stay whole on one line when standard
/// output is a pipe, on a terminal narrower than the table, and on a wide one.
/// </summary>
[Collection("broker")]
public sealed class CliOutputTests(BrokerFixture broker)
{
    [Fact]
    public async Task Ids_and_uris_stay_whole_on_one_line_in_a_pipe_and_on_narrow_and_wide_terminals()
    {
        // A long id (the broker allows 128 characters) that no 40-column table could hold in one cell.
        var id = "out-" + string.Concat(Enumerable.Range(0, 3).Select(_ => Guid.NewGuid().ToString("N")));
        var bindingId = "b-" + Guid.NewGuid().ToString("N");
        await broker.Client.ProvisionReadyAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        try
        {
            // A pipe: a header line, then one tab-separated record per line.
            var piped = await Cli.RunAsync(Broker(), null, "list");
            piped.ExitCode.ShouldBe(0, piped.ToString());
            var lines = piped.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines[0].Split('\t')[0].ShouldBe("id");
            lines.Count(l => l.Split('\t')[0] == id).ShouldBe(1, piped.Stdout);
            lines.Where(l => l.Split('\t')[0] == id).Single().Split('\t').Length.ShouldBe(lines[0].Split('\t').Length);

            // A terminal too narrow for the table: one "key: value" line per field, the id whole.
            var narrow = await Cli.RunOnTerminalAsync(Broker(), 40, "list");
            narrow.ExitCode.ShouldBe(0, narrow.ToString());
            narrow.Stdout.Split('\n').ShouldContain(l => l.StartsWith("id:", StringComparison.Ordinal) && l.Trim().EndsWith(" " + id, StringComparison.Ordinal), narrow.Stdout);

            var shown = await Cli.RunOnTerminalAsync(Broker(), 40, "show", id);
            shown.ExitCode.ShouldBe(0, shown.ToString());
            shown.Stdout.Split('\n').ShouldContain(l => l.Contains(id, StringComparison.Ordinal), shown.Stdout);

            // A wide terminal: a table, the id still whole in its row.
            var wide = await Cli.RunOnTerminalAsync(Broker(), 400, "list");
            wide.ExitCode.ShouldBe(0, wide.ToString());
            var row = wide.Stdout.Split('\n').Single(l => l.Contains(id, StringComparison.Ordinal));
            row.ShouldContain("│", Case.Sensitive, wide.Stdout);

            // Credentials printed by bind on a narrow terminal: the URI is copied in one piece.
            var bound = await Cli.RunOnTerminalAsync(Broker(), 40, "bind", id, "--binding-id", bindingId);
            bound.ExitCode.ShouldBe(0, bound.ToString());
            var uri = (await broker.Client.GetBindingAsync(id, bindingId)).Body.GetProperty("credentials").GetProperty("uri").GetString()!;
            uri.Length.ShouldBeGreaterThan(40);
            bound.Stdout.Split('\n').ShouldContain(l => l.TrimEnd().EndsWith(" " + uri, StringComparison.Ordinal) && l.StartsWith("uri:", StringComparison.Ordinal), bound.Stdout);
        }
        finally
        {
            await broker.Client.DeprovisionGoneAsync(id, Catalogs.Redis, Catalogs.RedisStandalone);
        }
    }

    private Dictionary<string, string?> Broker() => new() { ["STEWARD_URL"] = broker.Server.Url, ["STEWARD_USERNAME"] = broker.Server.Username, ["STEWARD_PASSWORD"] = broker.Server.Password };
}
