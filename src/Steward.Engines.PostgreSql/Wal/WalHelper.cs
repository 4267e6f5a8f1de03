using System.Globalization;
using System.Security.Cryptography;
using Steward.Security;

namespace Steward.Engines.PostgreSql.Wal;

/// <summary>
/// The per-instance files behind <c>archive_command</c> and <c>restore_command</c>: a small POSIX shell helper
/// that hands a segment to the broker with curl (or fetches one), the broker URL, and a header file with the
/// instance's archive secret. The secret is read by curl from that file (<c>-H @file</c>), so it is never on a
/// command line, in an environment or in the server log; the files are the service user's and private to it.
/// </summary>
public static class WalHelper
{
    /// <summary>The helper script.</summary>
    public const string ScriptName = "steward-wal";

    /// <summary>The header file curl sends: <c>X-Steward-Wal-Token: secret</c>.</summary>
    public const string HeaderName = "wal.header";

    /// <summary>The header that carries the instance's archive secret.</summary>
    public const string TokenHeader = "X-Steward-Wal-Token";

    /// <summary>
    /// The instance's WAL spool, beside its data directory (<c>{root}/wal-spool</c>, the service user's, 0700): the
    /// broker's read-ahead puts verified segments there for <c>restore_command</c> to take by a rename.
    /// </summary>
    public const string SpoolName = "wal-spool";

    private const string UrlName = "wal.url";

    // push: exit 0 only on the broker's 200 (stored durably); anything else is 1 and PostgreSQL keeps the
    // segment and retries. fetch: 0 restored and verified, 1 not in the archive (the normal end of recovery),
    // 126 the archive could not be asked: PostgreSQL then stops recovery rather than ending it early and
    // promoting a server that is missing WAL. fetch retries a refused connection for a while, so a broker restart
    // (kill -9 and its service manager starting it again) does not abort a recovery in progress.
    private const string Script = """
        #!/bin/sh
        # Written by Steward for this instance: archive_command / restore_command helper.
        dir=$(dirname "$0")
        url=$(cat "$dir/wal.url") || exit 126
        case "$1" in
        push)
          code=$(curl -sS -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 900 -H @"$dir/wal.header" -H 'Expect:' -T "$3" "$url/$2") || exit 1
          [ "$code" = 200 ] && exit 0
          echo "steward-wal: the broker answered HTTP $code for $2; PostgreSQL keeps it and retries" >&2
          exit 1 ;;
        fetch)
          # The broker's read-ahead puts verified segments into the instance's spool under their final name only
          # once complete: taking one is a rename. Anything else is asked of the broker.
          spooled="$dir/../wal-spool/$2"
          [ -f "$spooled" ] && mv -f "$spooled" "$3" 2>/dev/null && exit 0
          code=$(curl -sS -o "$3" -w '%{http_code}' --connect-timeout 5 --max-time 900 --retry 20 --retry-connrefused --retry-delay 1 --retry-max-time 60 -H @"$dir/wal.header" "$url/$2"); rc=$?
          [ "$rc" = 0 ] && [ "$code" = 200 ] && exit 0
          rm -f "$3"
          [ "$rc" = 0 ] && [ "$code" = 404 ] && exit 1
          echo "steward-wal: fetching $2 failed (curl exit $rc, HTTP $code)" >&2
          exit 126 ;;
        esac
        exit 126

        """;

    /// <summary>
    /// The archive settings for postgresql.conf, after writing the helper files; empty when archiving is off.
    /// A member of a highly available instance archives with <c>archive_mode = always</c>: a standby archives every
    /// segment it receives as well, so a segment the primary completed but had not archived when it died is archived
    /// by the standbys (no gap across a failover); the broker acknowledges the byte-identical copies. Members get
    /// no <c>restore_command</c>: they stream from the primary, and a standby must not stop (exit 126) because
    /// the broker is down (docs/high-availability.md).
    /// </summary>
    public static async Task<string> ConfigureAsync(EngineContext context, PostgreSqlWalOptions? options, CancellationToken cancellationToken, bool member = false)
    {
        if (options is null)
        {
            return string.Empty;
        }

        await WriteFilesAsync(context, options, cancellationToken);
        return member
            ? string.Create(CultureInfo.InvariantCulture, $"""
                archive_mode = always
                archive_command = '{Command(context, "push")}'
                archive_timeout = {Math.Max(1, (int)options.ArchiveTimeout.TotalSeconds)}

                """)
            : string.Create(CultureInfo.InvariantCulture, $"""
                archive_mode = on
                archive_command = '{Command(context, "push")}'
                restore_command = '{Command(context, "fetch")}'
                archive_timeout = {Math.Max(1, (int)options.ArchiveTimeout.TotalSeconds)}

                """);
    }

    /// <summary>The helper invocation for archive_command (push) or restore_command (fetch).</summary>
    public static string Command(EngineContext context, string verb) =>
        $"sh \"{Path.Combine(context.Paths.ConfigDir, ScriptName)}\" {verb} %f \"%p\"";

    /// <summary>Writes the helper and the broker URL (both may change with the broker), and a secret once.</summary>
    public static async Task WriteFilesAsync(EngineContext context, PostgreSqlWalOptions options, CancellationToken cancellationToken)
    {
        var dir = context.Paths.ConfigDir;
        await context.Runtime.WriteFileAsync(Path.Combine(dir, ScriptName), Script, cancellationToken);
        var url = new Uri(options.BrokerUrl, "wal/" + Uri.EscapeDataString(context.Instance.Id)).ToString();
        await context.Runtime.WriteFileAsync(Path.Combine(dir, UrlName), url + "\n", cancellationToken);
        if (Secret(context) is null)
        {
            await context.Runtime.WriteFileAsync(Path.Combine(dir, HeaderName), $"{TokenHeader}: {Secrets.Token(32)}\n", cancellationToken);
        }
    }

    /// <summary>The instance's archive secret, or null when the instance has none (archiving never configured).</summary>
    public static string? Secret(EngineContext context)
    {
        var file = Path.Combine(context.Paths.ConfigDir, HeaderName);
        if (!File.Exists(file))
        {
            return null;
        }

        var line = File.ReadAllText(file).Trim();
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && line[..colon] == TokenHeader ? line[(colon + 1)..].Trim() : null;
    }

    /// <summary>Whether <paramref name="presented"/> is the instance's secret (constant time).</summary>
    public static bool Verify(EngineContext context, string? presented) =>
        presented is { Length: > 0 } && Secret(context) is { } secret
        && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(presented), System.Text.Encoding.UTF8.GetBytes(secret));
}
