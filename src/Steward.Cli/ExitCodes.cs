namespace Steward.Cli;

/// <summary>Exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    /// <summary>Done as asked.</summary>
    public const int Success = 0;

    /// <summary>The broker refused the request, or the operation ended failed.</summary>
    public const int Failed = 1;

    /// <summary>The command line was invalid.</summary>
    public const int Usage = 2;

    /// <summary>The broker could not be reached or refused the credentials.</summary>
    public const int Unreachable = 3;

    /// <summary>The thing named does not exist (404/410).</summary>
    public const int NotFound = 4;
}
