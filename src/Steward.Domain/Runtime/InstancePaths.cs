namespace Steward.Runtime;

/// <summary>Where one instance keeps its files. Everything lives under <see cref="Root"/>.</summary>
public sealed record InstancePaths(string Root)
{
    /// <summary>The data service's data directory (PGDATA, Redis dir).</summary>
    public string DataDir => Path.Combine(Root, "data");

    /// <summary>Configuration files Steward writes.</summary>
    public string ConfigDir => Path.Combine(Root, "config");

    /// <summary>Pid and exit-status files of the supervised process.</summary>
    public string RunDir => Path.Combine(Root, "run");

    /// <summary>The server's stdout/stderr and log.</summary>
    public string LogFile => Path.Combine(Root, "log", "server.log");
}
