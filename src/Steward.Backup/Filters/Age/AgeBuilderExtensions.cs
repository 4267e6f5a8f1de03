using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Age;

/// <summary>Registers age encryption on backups and age identities on restores.</summary>
public static class AgeBuilderExtensions
{
    /// <summary>Appends age v1 encryption to the given recipients to the filter chain.</summary>
    public static BackupPipelineBuilder AddAgeEncryption(this BackupPipelineBuilder builder, AgeEncryptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return builder.AddFilter(new AgeFilter([.. options.Recipients], []));
    }

    /// <summary>Supplies the identities used to decrypt age encrypted backups.</summary>
    public static RestorePipelineBuilder UseAgeIdentities(this RestorePipelineBuilder builder, params IEnumerable<AgeIdentity> identities)
    {
        builder.Keyring = builder.Keyring with { AgeIdentities = [.. builder.Keyring.AgeIdentities, .. identities] };
        return builder;
    }
}
