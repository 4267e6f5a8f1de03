using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Steward.Runtime;

namespace Steward.Engines.PostgreSql;

/// <summary>
/// How a data directory is initialised, for an instance or ahead of one (the warm pool): the same initdb, then the
/// application's database and owner role created by the server in single-user mode, so no server listens on a
/// directory that has no instance yet. A directory from the pool and one made at provisioning are made by this
/// one code path.
/// </summary>
public sealed partial class PostgreSqlEngine
{
    /// <summary>initdb's arguments besides the directory, the administrator and the password file.</summary>
    private static readonly string[] InitDbSettings = ["--auth", "scram-sha-256", "--encoding", "UTF8", "--no-locale", "--data-checksums", "--no-instructions"];

    /// <summary>One statement a line: single-user mode ends a statement at a newline.</summary>
    private static readonly (string Database, string[] Statements)[] BootstrapSql =
    [
        ("postgres", [$"CREATE ROLE {OwnerRole} NOLOGIN", $"CREATE DATABASE {Database} OWNER {OwnerRole}", $"REVOKE ALL ON DATABASE {Database} FROM PUBLIC"]),
        (Database, [$"ALTER SCHEMA public OWNER TO {OwnerRole}"]),
    ];

    private Task<string>? _fingerprint;

    public Task<string> FingerprintAsync(CancellationToken cancellationToken) => _fingerprint ??= ComputeFingerprintAsync();

    public async Task PrepareAsync(EngineContext context, int niceness, CancellationToken cancellationToken)
    {
        var pwfile = Path.Combine(context.Paths.ConfigDir, "initdb.pw");
        await context.Runtime.WriteFileAsync(pwfile, context.Instance.AdminPassword + "\n", cancellationToken);
        try
        {
            var initdb = await RunAsync(context, niceness, Path.Combine(_binDir, "initdb"), ["-D", context.Paths.DataDir, "-U", context.Instance.AdminUser, "--pwfile", pwfile, .. InitDbSettings], cancellationToken);
            if (!initdb.Succeeded)
            {
                throw new InvalidOperationException($"initdb failed with exit code {initdb.ExitCode}: {Tail(initdb.Output)}");
            }
        }
        finally
        {
            await context.Runtime.DeleteFileAsync(pwfile, CancellationToken.None);
        }

        foreach (var (database, statements) in BootstrapSql)
        {
            var script = Path.Combine(context.Paths.ConfigDir, "bootstrap.sql");
            await context.Runtime.WriteFileAsync(script, string.Join('\n', statements) + "\n", cancellationToken);
            try
            {
                // The shell only redirects the script to the server's standard input; every value is an argument.
                var single = await RunAsync(
                    context,
                    niceness,
                    "/bin/sh",
                    ["-c", "exec \"$0\" --single -D \"$1\" \"$2\" < \"$3\"", Path.Combine(_binDir, "postgres"), context.Paths.DataDir, database, script],
                    cancellationToken);
                if (!single.Succeeded || single.Output.Contains("ERROR:", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"creating the application database failed (exit code {single.ExitCode}): {Tail(single.Output)}");
                }
            }
            finally
            {
                await context.Runtime.DeleteFileAsync(script, CancellationToken.None);
            }
        }
    }

    private static Task<ToolResult> RunAsync(EngineContext context, int niceness, string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        niceness == 0
            ? context.Runtime.RunToolAsync(context.Paths, fileName, arguments, null, cancellationToken)
            : context.Runtime.RunToolAsync(context.Paths, "nice", ["-n", niceness.ToString(CultureInfo.InvariantCulture), fileName, .. arguments], null, cancellationToken);

    private async Task<string> ComputeFingerprintAsync()
    {
        var psi = ChildEnvironment.Apply(
            new ProcessStartInfo(Path.Combine(_binDir, "postgres"), ["--version"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false },
            (IEnumerable<KeyValuePair<string, string>>?)null);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not run {psi.FileName} --version");
        var version = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var identity = new StringBuilder()
            .AppendLine(version.Trim())
            .AppendLine(string.Join(' ', InitDbSettings))
            .AppendJoin('\n', BootstrapSql.SelectMany(b => b.Statements.Select(s => b.Database + ": " + s)))
            .ToString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..16];
    }
}
