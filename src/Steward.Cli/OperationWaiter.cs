using System.Net;
using Spectre.Console;

namespace Steward.Cli;

/// <summary>Follows an operation until it ends (re-reading last_operation when the instance's event stream reports a change), with a live status line on a terminal and one line per change otherwise.</summary>
internal static class OperationWaiter
{
    /// <summary>Returns true when the operation succeeded (or the instance is gone after a delete).</summary>
    public static async Task<bool> WaitAsync(StewardClient client, string instanceId, string? operation, string verb, CancellationToken cancellationToken)
    {
        var path = $"/v2/service_instances/{Uri.EscapeDataString(instanceId)}/last_operation" + (operation is null ? string.Empty : "?operation=" + Uri.EscapeDataString(operation));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string? last = null;
        (bool Done, bool Ok, string Text) outcome = default;
        await using var events = InstanceEvents.Open(client, instanceId, cancellationToken);

        async Task PollAsync(Action<string> show)
        {
            while (true)
            {
                var (status, body) = await client.SendAsync(HttpMethod.Get, path, null, cancellationToken);
                if (status == HttpStatusCode.Gone)
                {
                    outcome = (true, true, "gone");
                    return;
                }

                if (status != HttpStatusCode.OK)
                {
                    outcome = (true, false, $"last_operation answered {(int)status}");
                    return;
                }

                var state = body.GetProperty("state").GetString();
                var description = body.TryGetProperty("description", out var d) ? d.GetString() : null;
                if (state != "in progress")
                {
                    outcome = (true, state == "succeeded", description ?? state ?? string.Empty);
                    return;
                }

                if (description != last)
                {
                    last = description;
                    show($"{verb} {instanceId}: {description} ({clock.Elapsed.TotalSeconds:0.0} s)");
                }

                await events.NextAsync(cancellationToken);
            }
        }

        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Status().StartAsync($"{verb} {instanceId}", ctx => PollAsync(text => ctx.Status(Markup.Escape(text))));
        }
        else
        {
            await PollAsync(text => Console.Error.WriteLine(text));
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        if (outcome.Ok)
        {
            Console.Error.WriteLine($"{verb} {instanceId}: done in {elapsed:0.0} s{(outcome.Text == "gone" ? string.Empty : " (" + outcome.Text + ")")}");
        }
        else
        {
            Console.Error.WriteLine($"{verb} {instanceId}: FAILED after {elapsed:0.0} s: {outcome.Text}");
        }

        return outcome.Ok;
    }
}
