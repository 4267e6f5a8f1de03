using Steward.Backup.Filters.Age;

namespace Steward.Backup.Tests.Infrastructure;

internal sealed record Keys(AgeIdentity Identity, string IdentityFile)
{
    /// <summary>A fresh identity, also written as an age-keygen style key file for the age CLI.</summary>
    public static Keys Create(TempDirectory directory)
    {
        var identity = AgeIdentity.Generate();
        var file = directory.File("key.txt");
        File.WriteAllText(file, $"# public key: {identity.Recipient}\n{identity.ExportSecretKey()}\n");
        return new Keys(identity, file);
    }
}
