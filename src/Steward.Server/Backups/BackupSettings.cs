using Steward.Backup.Filters.Age;
using Steward.Backup.Filters.Gzip;
using Steward.Backup.Filters.Zstd;
using Steward.Backup.Pipeline;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Storage.S3;
using Steward.Security;
using Steward.Server.Configuration;

namespace Steward.Server.Backups;

/// <summary>
/// How backups are made and where they go, resolved from the validated <see cref="BackupOptions"/>: zstd
/// level 3, age encryption to the broker's own key (plus any extra recipients), stored under
/// &lt;data&gt;/backups, or in S3-compatible storage when a bucket is set.
/// </summary>
internal sealed class BackupSettings
{
    private BackupSettings(string compression, int zstdLevel, bool encrypt, IReadOnlyList<AgeRecipient> recipients, IReadOnlyList<AgeIdentity> identities, FileSystemStorageOptions? fileSystem, S3StorageOptions? s3, string identityFile)
    {
        Compression = compression;
        ZstdLevel = zstdLevel;
        Encrypt = encrypt;
        Recipients = recipients;
        Identities = identities;
        FileSystem = fileSystem;
        S3 = s3;
        IdentityFile = identityFile;
    }

    /// <summary>zstd, gzip or none.</summary>
    public string Compression { get; }

    public int ZstdLevel { get; }

    public bool Encrypt { get; }

    public IReadOnlyList<AgeRecipient> Recipients { get; }

    /// <summary>Keys that open backups on restore; never logged or returned.</summary>
    public IReadOnlyList<AgeIdentity> Identities { get; }

    public FileSystemStorageOptions? FileSystem { get; }

    public S3StorageOptions? S3 { get; }

    /// <summary>The age identity file (age-keygen format) that opens Steward's backups with stock tools.</summary>
    public string IdentityFile { get; }

    /// <summary>Creates the broker's backup key on first use and the filesystem storage directory; options are validated.</summary>
    public static BackupSettings Load(StewardOptions options, BackupOptions backup)
    {
        var identityFile = backup.IdentityFile ?? Path.Combine(options.DataDir, "backup-identity.txt");
        var identities = LoadOrCreateIdentity(identityFile);
        var recipients = identities.Select(i => i.Recipient).Concat(backup.ExtraRecipients()).ToList();

        S3StorageOptions? s3 = null;
        FileSystemStorageOptions? fileSystem = null;
        if (backup.S3Bucket is { } bucket)
        {
            s3 = new S3StorageOptions
            {
                Bucket = bucket,
                ServiceUrl = new Uri(backup.S3Endpoint!),
                AccessKey = backup.S3AccessKeyId!,
                SecretKey = backup.S3SecretAccessKey!,
                Region = backup.S3Region,
                KeyPrefix = backup.S3Prefix,
            };
        }
        else
        {
            var dir = backup.Dir ?? Path.Combine(options.DataDir, "backups");
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            fileSystem = new FileSystemStorageOptions { RootDirectory = dir };
        }

        return new BackupSettings(backup.Compression, backup.ZstdLevel, backup.Encryption == "age", recipients, identities, fileSystem, s3, identityFile);
    }

    /// <summary>Adds the configured compression and encryption to a backup pipeline, in that order.</summary>
    public BackupPipelineBuilder AddFilters(BackupPipelineBuilder builder)
    {
        _ = Compression switch
        {
            "zstd" => builder.AddZstd(new ZstdOptions { Level = ZstdLevel }),
            "gzip" => builder.AddGzip(),
            _ => builder,
        };
        return Encrypt ? builder.AddAgeEncryption(new AgeEncryptionOptions { Recipients = Recipients }) : builder;
    }

    public override string ToString() => $"BackupSettings {{ Compression = {Compression}, Encrypt = {Encrypt}, Storage = {(S3 is null ? "filesystem" : "s3")} }}";

    private static List<AgeIdentity> LoadOrCreateIdentity(string file)
    {
        if (File.Exists(file))
        {
            return [.. AgeIdentity.ParseFile(File.ReadAllText(file))];
        }

        var identity = AgeIdentity.Generate();
        var text = $"# Steward backup key: opens this broker's backups (age -d -i {Path.GetFileName(file)}). Keep a copy outside this machine.\n# public key: {identity.Recipient}\n{identity.ExportSecretKey()}\n";
        return SecretFile.TryCreate(file, text) ? [identity] : [.. AgeIdentity.ParseFile(File.ReadAllText(file))];
    }
}
