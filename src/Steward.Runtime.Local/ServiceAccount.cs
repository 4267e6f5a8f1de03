using System.Diagnostics;

namespace Steward.Runtime.Local;

/// <summary>
/// The operating-system account instances run as. PostgreSQL refuses to run as root, and no data service
/// should: when Steward is root it runs them as an unprivileged system user, which the install step
/// (<c>scripts/install-deps.sh</c>) creates, and a broker creates when it is still missing.
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

        if (Lookup(name) is { } existing)
        {
            return existing;
        }

        // Concurrent useradd calls for one new name can all succeed while only one entry survives, so a
        // caller could read a uid that is gone a moment later. Creation is serialized across every Steward
        // process on the host, and the account is read back through the name service only afterwards.
        using (HostLock.Acquire(HostLock.AccountsPath))
        {
            if (Lookup(name) is { } created)
            {
                return created;
            }

            var error = UserAdd(name);
            return Lookup(name) ?? throw new InvalidOperationException($"could not create system user '{name}': {error}");
        }
    }

    private static ServiceAccount? Lookup(string name) =>
        UserDatabase.Find(name) is { } ids ? new ServiceAccount(name, ids.Uid, ids.Gid, DropsPrivileges: true) : null;

    private static string UserAdd(string name)
    {
        var psi = new ProcessStartInfo("useradd")
        {
            ArgumentList = { "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name },
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        ChildEnvironment.Apply<string>(psi, null);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not run useradd");
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? "useradd succeeded but the name service does not know the user" : $"useradd exited with {p.ExitCode}: {err.Trim()}";
    }
}
