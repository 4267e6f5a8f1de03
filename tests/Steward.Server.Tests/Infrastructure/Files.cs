namespace Steward.Server.Tests.Infrastructure;

/// <summary>File-system damage as people cause it.</summary>
internal static class Files
{
    /// <summary>
    /// Removes a directory the way <c>rm -rf</c> does under a running server: the server (PostgreSQL's WAL writer
    /// and archiver) may create files while the tree is removed, so the removal is repeated until it is gone.
    /// </summary>
    public static void RemoveTree(string path)
    {
        for (var attempt = 1; Directory.Exists(path); attempt++)
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException) when (attempt < 20)
            {
            }
        }
    }
}
