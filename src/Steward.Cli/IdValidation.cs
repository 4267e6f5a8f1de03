using System.CommandLine;
using System.CommandLine.Parsing;
using Steward.Security;

namespace Steward.Cli;

/// <summary>
/// Ids typed on the command line pass the broker's own <see cref="Identifiers"/> rule before anything is
/// sent, so a bad id is a usage error (exit code 2) naming the rule, not a request the broker refuses.
/// </summary>
internal static class IdValidation
{
    public static void Require(params Symbol[] symbols)
    {
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Argument<string> argument:
                    argument.Validators.Add(result => Check(result, argument.Name, result.GetValueOrDefault<string>()));
                    break;
                case Option<string?> option:
                    option.Validators.Add(result => Check(result, option.Name, result.GetValueOrDefault<string?>()));
                    break;
            }
        }
    }

    private static void Check(SymbolResult result, string name, string? value)
    {
        if (value is not null && Identifiers.Problem(value) is { } problem)
        {
            result.AddError($"{name} '{value}' {problem} (ids are {Identifiers.Rule})");
        }
    }
}
