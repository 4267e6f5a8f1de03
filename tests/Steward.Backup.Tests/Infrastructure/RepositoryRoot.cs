namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Finds the repository root by walking up from the test binaries to Steward.sln.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Steward.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Steward.sln not found above {AppContext.BaseDirectory}.");
    });

    public static string Path => Root.Value;
}
