using System.Globalization;

namespace Steward.Bench.Supervision;

/// <summary>Command line: --repeat N, --crash-loop-repeat N, --write PATH, --only KEY[,KEY…], --policy NAME[,NAME…].</summary>
internal sealed record Options(int Repeat, int CrashLoopRepeat, string? WritePath, IReadOnlyList<string> Only, IReadOnlyList<string> Policies)
{
    public static Options Parse(string[] args)
    {
        int? repeat = null, crashLoop = null;
        string? write = null;
        IReadOnlyList<string> only = [], policies = ["production", "tuned"];
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--repeat":
                    repeat = Positive(Next());
                    break;
                case "--crash-loop-repeat":
                    crashLoop = Positive(Next());
                    break;
                case "--write":
                    write = Next();
                    break;
                case "--only":
                    only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries);
                    break;
                case "--policy":
                    policies = Next().Split(',', StringSplitOptions.RemoveEmptyEntries);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}; use --repeat N, --crash-loop-repeat N, --write PATH, --only KEYS, --policy NAMES");
            }
        }

        // A production crash loop lasts about a minute (backoff 1+2+4+8+16 s plus a check interval per death) and is
        // the longest stream: three of them keep the whole run near six minutes, five would take about ten.
        var r = repeat ?? 5;
        return new Options(r, crashLoop ?? Math.Min(r, 3), write, only, policies);
    }

    private static int Positive(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"'{value}' is not a positive whole number");
}
