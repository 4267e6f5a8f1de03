namespace Steward.Cli;

/// <summary>
/// Secrets reach the CLI from the environment, a file, or standard input, never from its command line, where every
/// local user reads them (<c>ps</c>, <c>/proc/&lt;pid&gt;/cmdline</c>).
/// </summary>
internal static class SecretInput
{
    private static readonly string[] Refused = ["--password", "--token"];

    /// <summary>The refusal for a secret given as an argument, or null.</summary>
    public static string? RefusalFor(IEnumerable<string> args)
    {
        foreach (var arg in args.TakeWhile(a => a != "--"))
        {
            var name = arg.Split('=', 2)[0];
            if (Refused.Contains(name))
            {
                var variable = name == "--token" ? "STEWARD_TOKEN" : "STEWARD_PASSWORD";
                return $"{name} is not accepted: a secret on the command line is visible to every local user (ps). " +
                    $"Set {variable}, or pass {name}-file FILE, or {name}-file - to read it from standard input.";
            }
        }

        return null;
    }

    /// <summary>The first line of <paramref name="file"/> ("-": standard input), or null when no file is given.</summary>
    public static string? Read(string? file, string option)
    {
        if (file is null)
        {
            return null;
        }

        string? line;
        try
        {
            line = file == "-" ? Console.In.ReadLine() : File.ReadLines(file).FirstOrDefault();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"{option} {file}: {ex.Message}");
        }

        line = line?.Trim();
        return string.IsNullOrEmpty(line)
            ? throw new CliException(ExitCodes.Usage, $"{option} {file}: {(file == "-" ? "standard input" : "the file")} is empty")
            : line;
    }
}
