using System.Globalization;
using System.Text.RegularExpressions;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Broker;

/// <summary>The warm pool as the broker's log tells it: entries made (with how long each took) and entries taken.</summary>
internal static partial class WarmPoolLog
{
    /// <summary>Waits until the pool holds <paramref name="size"/> ready entries.</summary>
    public static async Task WaitFullAsync(StewardServer server, int size, CancellationToken ct)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (Ready().Matches(server.Log).Count - Taken().Matches(server.Log).Count < size)
        {
            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"the warm pool did not fill to {size} within 5 min");
            }

            await Task.Delay(50, ct);
        }
    }

    public static IReadOnlyList<double> RefillTimes(string log) =>
        [.. Ready().Matches(log).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    [GeneratedRegex(@"Warm pool entry pool-[0-9a-f]+ of postgresql ready in (\d+) ms")]
    private static partial Regex Ready();

    [GeneratedRegex(@"took warm pool entry pool-")]
    private static partial Regex Taken();
}
