namespace Steward.Server.Configuration;

/// <summary>How the broker refuses a configuration: one line per problem on standard error, exit code 2.</summary>
internal static class SettingsErrors
{
    public const int ExitCode = 2;

    public static int Report(IReadOnlyList<string> problems)
    {
        Console.Error.WriteLine($"steward-server: not started: {problems.Count} invalid setting{(problems.Count == 1 ? "" : "s")} (docs/configuration.md lists them all)");
        foreach (var problem in problems)
        {
            Console.Error.WriteLine("  " + problem);
        }

        return ExitCode;
    }
}
