using System.Globalization;
using System.Net;
using System.Text.Json;
using Spectre.Console;

namespace Steward.Cli;

/// <summary>Handlers of <c>steward backup create|list|show|delete|restore</c>.</summary>
internal static class BackupCommands
{
    public static async Task<int> CreateAsync(StewardClient client, string instance, string? kind, bool wait, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/backups", kind is null ? new { } : new { kind }, ct, HttpStatusCode.Accepted);
        var id = body.GetProperty("id").GetString()!;
        Console.WriteLine(id);
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var done = await FollowAsync(client, instance, $"backing up {instance}", () => BackupAsync(client, id, ct), b => b.GetProperty("state").GetString() != "in progress", ct);
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(done));
        }

        if (done.GetProperty("state").GetString() == "succeeded")
        {
            Console.Error.WriteLine($"backup {id}: {Bytes(done.GetProperty("plaintext_bytes").GetInt64())} → {Bytes(done.GetProperty("stored_bytes").GetInt64())} stored in {done.GetProperty("duration_seconds").GetDouble():0.0} s");
            return ExitCodes.Success;
        }

        Console.Error.WriteLine($"backup {id} FAILED at stage '{Str(done, "failed_stage")}' ({Str(done, "failure_kind")}): {Str(done, "message")}");
        return ExitCodes.Failed;
    }

    public static async Task<int> ListAsync(StewardClient client, string instance, bool json, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Get, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/backups", null, ct, HttpStatusCode.OK);
        var backups = body.GetProperty("backups");
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(backups));
            return ExitCodes.Success;
        }

        var table = new Listing(Listing.Whole("id"), Listing.Wraps("kind"), Listing.Wraps("state"), Listing.Wraps("pinned"), Listing.Whole("started"), Listing.Wraps("duration"), Listing.Wraps("size"), Listing.Wraps("stored"), Listing.Wraps("failed stage"));
        foreach (var b in backups.EnumerateArray())
        {
            table.Add(
                b.GetProperty("id").GetString(),
                b.GetProperty("kind").GetString(),
                b.GetProperty("state").GetString(),
                b.TryGetProperty("pinned", out var pin) && pin.ValueKind == JsonValueKind.True ? "yes" : "-",
                b.GetProperty("started_at").GetString(),
                b.TryGetProperty("duration_seconds", out var d) && d.ValueKind == JsonValueKind.Number ? $"{d.GetDouble():0.0} s" : "-",
                Bytes(b.GetProperty("plaintext_bytes").GetInt64()),
                Bytes(b.GetProperty("stored_bytes").GetInt64()),
                Str(b, "failed_stage"));
        }

        table.Write();
        return ExitCodes.Success;
    }

    public static async Task<int> ShowAsync(StewardClient client, string id, CancellationToken ct)
    {
        Console.WriteLine(Parameters.Pretty(await BackupAsync(client, id, ct)));
        return ExitCodes.Success;
    }

    public static async Task<int> DeleteAsync(StewardClient client, string id, CancellationToken ct)
    {
        var (status, _) = await client.ExpectAsync(HttpMethod.Delete, $"/api/v1/backups/{Uri.EscapeDataString(id)}", null, ct, HttpStatusCode.OK, HttpStatusCode.Accepted);
        Console.Error.WriteLine(status == HttpStatusCode.Accepted ? $"backup {id} is running; cancelling it" : $"backup {id} deleted from storage");
        return ExitCodes.Success;
    }

    public static async Task<int> RestoreAsync(StewardClient client, string instance, string backup, bool wait, CancellationToken ct)
    {
        var (_, body) = await client.ExpectAsync(HttpMethod.Post, $"/api/v1/instances/{Uri.EscapeDataString(instance)}/restore", new { backup_id = backup }, ct, HttpStatusCode.Accepted);
        var operation = body.GetProperty("operation").GetString()!;
        Console.WriteLine(operation);
        if (!wait)
        {
            return ExitCodes.Success;
        }

        var done = await FollowAsync(
            client,
            instance,
            $"restoring {instance}",
            async () => (await client.ExpectAsync(HttpMethod.Get, $"/api/v1/operations/{Uri.EscapeDataString(operation)}", null, ct, HttpStatusCode.OK)).Body,
            o => o.GetProperty("state").GetString() != "in progress",
            ct);
        var ok = done.GetProperty("state").GetString() == "succeeded";
        Console.Error.WriteLine($"restore of {instance}: {(ok ? "done" : "FAILED")}: {Str(done, "description")}");
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }

    private static async Task<JsonElement> BackupAsync(StewardClient client, string id, CancellationToken ct) =>
        (await client.ExpectAsync(HttpMethod.Get, $"/api/v1/backups/{Uri.EscapeDataString(id)}", null, ct, HttpStatusCode.OK)).Body;

    /// <summary>
    /// Re-reads the state whenever the instance's event stream reports progress or an end, drawing a progress
    /// bar with bytes, rate and stage on a terminal and a line per second otherwise.
    /// </summary>
    internal static async Task<JsonElement> FollowAsync(StewardClient client, string instance, string what, Func<Task<JsonElement>> poll, Func<JsonElement, bool> finished, CancellationToken ct)
    {
        await using var events = InstanceEvents.Open(client, instance, ct);
        JsonElement current = await poll();
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new SpinnerColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(what)).IsIndeterminate();
                    while (!finished(current))
                    {
                        task.Description = Markup.Escape($"{what}: {Describe(current)}");
                        await events.NextAsync(ct);
                        current = await poll();
                    }

                    task.Description = Markup.Escape($"{what}: {Describe(current)}");
                    task.StopTask();
                });
            return current;
        }

        var sinceLine = System.Diagnostics.Stopwatch.StartNew();
        var first = true;
        while (!finished(current))
        {
            if (first || sinceLine.Elapsed > TimeSpan.FromSeconds(1))
            {
                Console.Error.WriteLine($"{what}: {Describe(current)}");
                first = false;
                sinceLine.Restart();
            }

            await events.NextAsync(ct);
            current = await poll();
        }

        return current;
    }

    private static string Describe(JsonElement e)
    {
        if (e.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            return $"{Bytes(p.GetProperty("plaintext_bytes").GetInt64())} read, {Bytes(p.GetProperty("stored_bytes").GetInt64())} stored, {Bytes((long)p.GetProperty("bytes_per_second").GetDouble())}/s, stage {p.GetProperty("stage").GetString()}";
        }

        return Str(e, "description") ?? Str(e, "state") ?? "working";
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
