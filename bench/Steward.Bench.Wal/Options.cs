using System.Globalization;

namespace Steward.Bench.Wal;

/// <summary>Command line: <c>[--scale N] [--seconds S] [--clients C] [--wal-gb G] [--write docs/benchmarks.md]</c>.</summary>
internal sealed record Options(int Scale, int Seconds, int Clients, double WalGigabytes, string? WritePath)
{
    public static Options Parse(string[] args)
    {
        var options = new Options(50, 60, 4, 1.0, null);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--scale" => options with { Scale = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seconds" => options with { Seconds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--clients" => options with { Clients = int.Parse(value, CultureInfo.InvariantCulture) },
                "--wal-gb" => options with { WalGigabytes = double.Parse(value, CultureInfo.InvariantCulture) },
                "--write" => options with { WritePath = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options.Scale < 1 || options.Seconds < 1 || options.Clients < 1 || options.WalGigabytes <= 0
            ? throw new ArgumentException("--scale, --seconds, --clients and --wal-gb must be positive")
            : options;
    }
}
