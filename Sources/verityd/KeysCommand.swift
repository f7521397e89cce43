//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import VerityCore
import VerityCrypto
import Logging
import VerityPostgres
import VerityStore

/// `verityd keys`: what the store's data depends on in the pepper keyring, and rotating it.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Inspect and rotate the pepper keyring.",
        discussion: """
            The files are those verityd's own --data-dir, --store and --pepper name, given before \
            `keys` (verityd --data-dir DIR keys inventory).

            Rotating with several instances: every instance must hold a key before any instance \
            uses it. 1. `verityd keys add --id NEW` on the keyring file; give the new file to every \
            instance and restart them one by one (nothing uses NEW yet). 2. `verityd keys rotate --id NEW` \
            on the file; give it to every instance and restart them one by one: new hashes, codes, \
            deliveries and audit events use NEW, and old hashes are rehashed on their next successful \
            check. 3. Remove the old key only once `verityd keys inventory` shows nothing uses it.
            """,
        subcommands: [Inventory.self, Add.self, Rotate.self]
    )

    /// The files verityd itself would use: its flags, environment, secrets directory and
    /// configuration file, resolved by the same ``Settings``.
    struct Paths {
        let storePath: String
        let pepperPath: String

        init(_ command: Verityd) async throws {
            let environment = ProcessInfo.processInfo.environment
            let reader = try await Settings.reader(
                environment: environment, configFile: command.config ?? environment["VERITY_CONFIG_FILE"],
                secretsDirectory: command.secretsDir ?? environment["VERITY_SECRETS_DIR"]
            )
            let settings = Settings(command: command, reader: reader)
            let dataDirectory = settings.string(command.dataDir, "VERITY_DATA_DIR") ?? ".verity"
            storePath = settings.string(command.store, "VERITY_STORE") ?? dataDirectory + "/verity.sqlite"
            pepperPath = settings.string(command.pepper, "VERITY_PEPPER_FILE") ?? dataDirectory + "/pepper.json"
        }
    }

    struct Inventory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the stored hashes, codes, deliveries, audit events, registration tokens and link facts per pepper key and KDF parameters; exits 1 when the keyring lacks a key they need."
        )

        @ParentCommand var verityd: Verityd

        func run() async throws {
            try ProcessHardening.apply()
            let paths = try await Paths(verityd)
            let keyring = try PepperKeyring.load(from: paths.pepperPath)
            let inventory = try await Self.inventory(of: paths.storePath, keyring: keyring)
            print("key\twhat\tcount")
            inventory.lines.forEach { print($0) }
            print("keyring: \(keyring.keyIDs.joined(separator: ", ")) (current \(keyring.currentKeyID))")
            let missing = inventory.keysMissing(from: keyring)
            if !missing.isEmpty {
                print("MISSING from the keyring: \(missing.joined(separator: ", "))")
                throw ExitCode(1)
            }
        }

        /// What the store at `location`, a SQLite file or a `postgres://` URL, holds per key.
        static func inventory(of location: String, keyring: PepperKeyring) async throws -> KeyInventory {
            guard PostgresStoreConfiguration.isPostgresURL(location) else {
                // An inventory of a store that is not there would read as "nothing uses any key".
                guard FileManager.default.fileExists(atPath: location) else {
                    throw ValidationError("no store at \(location); name it with --store or --data-dir before `keys`")
                }
                let store = try SQLiteCredentialStore(path: location, keyring: keyring)
                defer { try? store.close() }
                return try await store.keyInventory()
            }
            let store = PostgresCredentialStore(
                configuration: try PostgresStoreConfiguration(url: location), keyring: keyring, logger: Logger(label: "verityd.keys")
            )
            do {
                // An inventory inspects: an empty or mistyped database is refused, not migrated.
                try await store.prepare(migrating: false)
                let inventory = try await store.keyInventory()
                await store.close()
                return inventory
            } catch {
                await store.close()
                throw error
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a new random key to the keyring file; the current key stays current.")

        @ParentCommand var verityd: Verityd
        @Option(help: "The new key's id: 1 to 32 letters, digits, '-' or '_'.") var id: String

        func run() async throws {
            try ProcessHardening.apply()
            let paths = try await Paths(verityd)
            let keyring = try PepperKeyring.load(from: paths.pepperPath).adding(id)
            try keyring.replace(at: paths.pepperPath)
            print("added \(id); current is still \(keyring.currentKeyID). Give this file to every instance before `keys rotate --id \(id)`.")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key current, adding it first if the keyring lacks it.")

        @ParentCommand var verityd: Verityd
        @Option(help: "The key to make current.") var id: String

        func run() async throws {
            try ProcessHardening.apply()
            let paths = try await Paths(verityd)
            let loaded = try PepperKeyring.load(from: paths.pepperPath)
            let keyring = try (loaded.key(id: id) == nil ? loaded.adding(id) : loaded).makingCurrent(id)
            try keyring.replace(at: paths.pepperPath)
            print("current key is now \(id); keys held: \(keyring.keyIDs.joined(separator: ", ")). Restart every instance with this file.")
        }
    }
}
