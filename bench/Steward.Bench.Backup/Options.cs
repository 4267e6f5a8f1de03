using System.Globalization;

namespace Steward.Bench.Backup;

/// <summary>Command line: <c>[--scale N] [--repeat R] [--write docs/benchmarks.md] [--render saved-figures.json] [--rebuild] [--repair] [--incremental] [--sizes 10,40,100]</c>.</summary>
internal sealed record Options(int Scale, int Repeat, string? WritePath, string? RenderPath = null, bool Rebuild = false, IReadOnlyList<int>? Sizes = null, bool Repair = false, bool Incremental = false)
{
    public static Options Parse(string[] args)
    {
        var options = new Options(100, 3, null);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--repair")
            {
                options = options with { Repair = true };
                continue;
            }

            if (args[i] == "--incremental")
            {
                options = options with { Incremental = true };
                continue;
            }

            if (args[i] == "--rebuild")
            {
                options = options with { Rebuild = true };
                continue;
            }

            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--scale" => options with { Scale = int.Parse(value, CultureInfo.InvariantCulture) },
                "--repeat" => options with { Repeat = int.Parse(value, CultureInfo.InvariantCulture) },
                "--write" => options with { WritePath = value },
                "--render" => options with { RenderPath = value },
                "--sizes" => options with { Sizes = [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
        }

        return options.Scale < 1 || options.Repeat < 1
            ? throw new ArgumentException("--scale and --repeat must be positive")
            : options;
    }
}
