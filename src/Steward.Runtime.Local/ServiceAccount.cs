using System.Diagnostics;
using System.Globalization;

namespace Steward.Runtime.Local;

/// <summary>
/// The operating-system account instances run as. PostgreSQL refuses to run as root, and no data service
/// should: when Steward is root it runs them as an unprivileged system user, created on first use.
/// When Steward is not root, instances run as Steward's own user.
/// </summary>
public sealed record ServiceAccount(string Name, uint Uid, uint Gid, bool DropsPrivileges)
{
    /// <summary>Resolves the account, creating the system user when running as root and it is missing.</summary>
    public static ServiceAccount Resolve(string name)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return new ServiceAccount(Environment.UserName, 0, 0, DropsPrivileges: false);
        }

        var entry = Lookup(name);
        if (entry is null)
        {
            var psi = new ProcessStartInfo("useradd")
            {
                ArgumentList = { "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not run useradd");
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            entry = Lookup(name) ?? throw new InvalidOperationException($"could not create system user '{name}': {err.Trim()}");
        }

        return entry;
    }

    private static ServiceAccount? Lookup(string name)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && f[0] == name)
            {
                return new ServiceAccount(name, uint.Parse(f[2], CultureInfo.InvariantCulture), uint.Parse(f[3], CultureInfo.InvariantCulture), DropsPrivileges: true);
            }
        }

        return null;
    }
}
