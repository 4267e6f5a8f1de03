using Steward.Engines;

namespace Steward.Backup.Engines;

/// <summary>
/// The restore of methods whose backup is a whole data directory: unpack it beside the live one while the
/// server keeps serving, and only once the whole backup has arrived and been verified, stop the server,
/// swap the directories and start it; if the restored server does not come up, the old data goes back.
/// </summary>
public static class DataDirectoryRestore
{
    /// <summary>
    /// Runs the restore; <paramref name="unpackInto"/> streams the backup into the given empty directory. Every file
    /// operation goes through the instance's runtime: renames beside the broker locally, in the instance's pod on
    /// Kubernetes.
    /// </summary>
    public static async Task RunAsync(EngineContext context, IRestoreHost host, Func<string, CancellationToken, Task> unpackInto, CancellationToken cancellationToken)
    {
        var files = context.Runtime;
        var paths = context.Paths;
        var staging = Path.Combine(paths.Root, "restore-staging");
        var previous = Path.Combine(paths.Root, "data.pre-restore");

        // A restore interrupted after its swap put the last known good data aside: it goes back first.
        if (await files.ExistsAsync(previous, cancellationToken))
        {
            await host.StopServerAsync(cancellationToken);
            await files.DeleteDirectoryAsync(paths.DataDir, cancellationToken);
            await files.MoveAsync(previous, paths.DataDir, cancellationToken);
            await host.StartServerAsync(cancellationToken);
        }

        await files.DeleteDirectoryAsync(staging, cancellationToken);
        await host.CreateDirectoryAsync(staging, cancellationToken);
        try
        {
            await unpackInto(staging, cancellationToken);
        }
        catch
        {
            await files.DeleteDirectoryAsync(staging, CancellationToken.None);
            throw;
        }

        await host.StopServerAsync(cancellationToken);
        await files.MoveAsync(paths.DataDir, previous, cancellationToken);
        await files.MoveAsync(staging, paths.DataDir, cancellationToken);
        try
        {
            await host.StartServerAsync(cancellationToken);
        }
        catch
        {
            await host.StopServerAsync(CancellationToken.None);
            await files.DeleteDirectoryAsync(paths.DataDir, CancellationToken.None);
            await files.MoveAsync(previous, paths.DataDir, CancellationToken.None);
            await host.StartServerAsync(CancellationToken.None);
            throw;
        }

        await files.DeleteDirectoryAsync(previous, cancellationToken);
    }
}
