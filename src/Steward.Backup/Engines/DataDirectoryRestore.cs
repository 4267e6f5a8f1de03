using Steward.Engines;

namespace Steward.Backup.Engines;

/// <summary>
/// The restore of methods whose backup is a whole data directory: unpack it beside the live one while the
/// server keeps serving, and only once the whole backup has arrived and been verified, stop the server,
/// swap the directories and start it; if the restored server does not come up, the old data goes back.
/// </summary>
public static class DataDirectoryRestore
{
    /// <summary>Runs the restore; <paramref name="unpackInto"/> streams the backup into the given empty directory.</summary>
    public static async Task RunAsync(EngineContext context, IRestoreHost host, Func<string, CancellationToken, Task> unpackInto, CancellationToken cancellationToken)
    {
        var paths = context.Paths;
        var staging = Path.Combine(paths.Root, "restore-staging");
        var previous = Path.Combine(paths.Root, "data.pre-restore");

        // A restore interrupted after its swap put the last known good data aside: it goes back first.
        if (Directory.Exists(previous))
        {
            await host.StopServerAsync(cancellationToken);
            if (Directory.Exists(paths.DataDir))
            {
                Directory.Delete(paths.DataDir, recursive: true);
            }

            Directory.Move(previous, paths.DataDir);
            await host.StartServerAsync(cancellationToken);
        }

        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        await host.CreateDirectoryAsync(staging, cancellationToken);
        try
        {
            await unpackInto(staging, cancellationToken);
        }
        catch
        {
            Directory.Delete(staging, recursive: true);
            throw;
        }

        await host.StopServerAsync(cancellationToken);
        Directory.Move(paths.DataDir, previous);
        Directory.Move(staging, paths.DataDir);
        try
        {
            await host.StartServerAsync(cancellationToken);
        }
        catch
        {
            await host.StopServerAsync(CancellationToken.None);
            Directory.Delete(paths.DataDir, recursive: true);
            Directory.Move(previous, paths.DataDir);
            await host.StartServerAsync(CancellationToken.None);
            throw;
        }

        Directory.Delete(previous, recursive: true);
    }
}
