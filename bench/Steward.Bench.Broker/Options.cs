using System.Globalization;

namespace Steward.Bench.Broker;

/// <summary>Command line: <c>[--instances N] [--poll-seconds S] [--write docs/benchmarks.md]</c>.</summary>
internal sealed record Options(int Instances, int PollSeconds, string? WritePath)
{
    public static Options Parse(string[] args)
    {
        var options = new Options(20, 5, null);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--instances" => options with { Instances = int.Parse(value, CultureInfo.InvariantCulture) },
                "--poll-seconds" => options with { PollSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--write" => options with { WritePath = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options.Instances < 1 || options.PollSeconds < 1
            ? throw new ArgumentException("--instances and --poll-seconds must be positive")
            : options;
    }
}
