using System.Net;
using System.Text.Json;

namespace Steward.Cli;

/// <summary>Handlers of <c>steward backup schedule set|show|delete</c> and <c>steward backup pin|unpin</c>.</summary>
internal static class ScheduleCommands
{
    public sealed record Spec(string? Cron, string? TimeZone, string? Every, string? Kind, int? KeepLast, int? KeepDaily, int? KeepWeekly, int? KeepMonthly, bool Rehearse = false);

    public static async Task<int> SetAsync(StewardClient client, string instance, Spec spec, bool json, CancellationToken ct)
    {
        var body = new Dictionary<string, object?>
        {
            ["cron"] = spec.Cron,
            ["time_zone"] = spec.TimeZone,
            ["every"] = spec.Every,
            ["kind"] = spec.Kind,
            ["keep_last"] = spec.KeepLast,
            ["keep_daily"] = spec.KeepDaily,
            ["keep_weekly"] = spec.KeepWeekly,
            ["keep_monthly"] = spec.KeepMonthly,
        }.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
        var (_, schedule) = await client.ExpectAsync(HttpMethod.Put, Path(instance, spec.Rehearse), body, ct, HttpStatusCode.OK);
        Print(schedule, spec.Rehearse, json);
        return ExitCodes.Success;
    }

    public static async Task<int> ShowAsync(StewardClient client, string instance, bool rehearse, bool json, CancellationToken ct)
    {
        var (_, schedule) = await client.ExpectAsync(HttpMethod.Get, Path(instance, rehearse), null, ct, HttpStatusCode.OK);
        Print(schedule, rehearse, json);
        return ExitCodes.Success;
    }

    public static async Task<int> DeleteAsync(StewardClient client, string instance, bool rehearse, CancellationToken ct)
    {
        await client.ExpectAsync(HttpMethod.Delete, Path(instance, rehearse), null, ct, HttpStatusCode.OK);
        Console.Error.WriteLine(rehearse
            ? $"the rehearsal schedule of {instance} is deleted; no more drills run (a drill already running finishes)"
            : $"the backup schedule of {instance} is deleted; a default of its plan, if there is one, applies again");
        return ExitCodes.Success;
    }

    public static async Task<int> PinAsync(StewardClient client, string backup, bool pin, CancellationToken ct)
    {
        await client.ExpectAsync(pin ? HttpMethod.Put : HttpMethod.Delete, $"/api/v1/backups/{Uri.EscapeDataString(backup)}/pin", pin ? new { } : null, ct, HttpStatusCode.OK);
        Console.Error.WriteLine(pin ? $"backup {backup} is pinned: retention never deletes it" : $"backup {backup} is no longer pinned");
        return ExitCodes.Success;
    }

    private static string Path(string instance, bool rehearse) => $"/api/v1/instances/{Uri.EscapeDataString(instance)}/{(rehearse ? "rehearsal" : "backup")}-schedule";

    private static void Print(JsonElement s, bool rehearse, bool json)
    {
        if (json)
        {
            Console.WriteLine(Parameters.Pretty(s));
            return;
        }

        string Str(string name) => s.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.ToString() : "-";
        if (rehearse)
        {
            Console.WriteLine($"instance:      {Str("instance_id")} ({Str("source")} rehearsal drill of its newest backup)");
            Console.WriteLine($"when:          {(Str("cron") != "-" ? $"cron '{Str("cron")}' in {Str("time_zone")}" : $"every {Str("every")}")}");
            Console.WriteLine($"next run:      {Str("next_run_at")}");
            Console.WriteLine($"last run:      {Str("last_run_at")} {Str("last_rehearsal_id")} {Str("last_result")}{(Str("last_message") != "-" ? ": " + Str("last_message") : string.Empty)}");
            if (Str("open_incident") != "-")
            {
                Console.WriteLine($"incident:      {Str("open_incident")}");
            }

            return;
        }

        var retention = s.GetProperty("retention");
        var keeps = retention.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).Select(p => $"{p.Name.Replace('_', '-')} {p.Value}").ToList();
        Console.WriteLine($"instance:      {Str("instance_id")} ({Str("source")} schedule)");
        Console.WriteLine($"when:          {(Str("cron") != "-" ? $"cron '{Str("cron")}' in {Str("time_zone")}" : $"every {Str("every")}")}{(Str("kind") != "-" ? $", kind {Str("kind")}" : string.Empty)}");
        Console.WriteLine($"retention:     {(keeps.Count == 0 ? "keep everything" : string.Join(", ", keeps))}");
        Console.WriteLine($"next run:      {Str("next_run_at")}");
        Console.WriteLine($"last run:      {Str("last_run_at")} {Str("last_backup_id")} {Str("last_result")}{(Str("last_message") != "-" ? ": " + Str("last_message") : string.Empty)}");
        Console.WriteLine($"last success:  {Str("last_successful_backup_at")} ({Str("last_successful_backup_age_seconds")} s ago){(s.GetProperty("backup_overdue").GetBoolean() ? "  OVERDUE" : string.Empty)}");
        if (Str("open_incident") != "-")
        {
            Console.WriteLine($"incident:      {Str("open_incident")} (retry at {Str("retry_at")})");
        }
    }
}
