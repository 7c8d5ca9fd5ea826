/**
 * Just enough of 64-bit Mach-O to check and strip the code signature of the darwin executables
 * `make dist` builds on Linux: Apple silicon runs only executables whose signature covers every
 * page, so the tests recompute each page's hash as the kernel does.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const MH_MAGIC_64 = 0xfeedfacf;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const HEADER_BYTES = 32;
const SUPERBLOB_MAGIC = 0xfade0cc0;
const CODEDIRECTORY_MAGIC = 0xfade0c02;
const CODEDIRECTORY_SLOT = 0;
const HASH_SHA256 = 2;

interface LoadCommand {
  cmd: number;
  offset: number;
  size: number;
}

function loadCommands(file: Buffer): LoadCommand[] {
  if (file.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  const count = file.readUInt32LE(16);
  const commands: LoadCommand[] = [];
  let offset = HEADER_BYTES;
  for (let index = 0; index < count; index += 1) {
    const size = file.readUInt32LE(offset + 4);
    commands.push({ cmd: file.readUInt32LE(offset), offset, size });
    offset += size;
  }
  return commands;
}

export interface SignatureCheck {
  signed: boolean;
  /** Pages whose hash the CodeDirectory gets wrong. */
  badPages: number;
  pages: number;
  /** The signature covers every byte before it, and nothing follows it. */
  coversFile: boolean;
  adhoc: boolean;
}

/** Checks an executable's code signature as the kernel reads it: every page's SHA-256. */
export function checkMachOSignature(path: string): SignatureCheck {
  const file = readFileSync(path);
  const command = loadCommands(file).find((each) => each.cmd === LC_CODE_SIGNATURE);
  if (!command) return { signed: false, badPages: 0, pages: 0, coversFile: false, adhoc: false };
  const dataOffset = file.readUInt32LE(command.offset + 8);
  const dataSize = file.readUInt32LE(command.offset + 12);
  if (file.readUInt32BE(dataOffset) !== SUPERBLOB_MAGIC) throw new Error('the signature is not a SuperBlob');
  const blobs = file.readUInt32BE(dataOffset + 8);
  let directory: number | undefined;
  for (let index = 0; index < blobs; index += 1) {
    const entry = dataOffset + 12 + index * 8;
    if (file.readUInt32BE(entry) === CODEDIRECTORY_SLOT)
      directory = dataOffset + file.readUInt32BE(entry + 4);
  }
  if (directory === undefined || file.readUInt32BE(directory) !== CODEDIRECTORY_MAGIC)
    throw new Error('the signature has no CodeDirectory');
  const flags = file.readUInt32BE(directory + 12);
  const hashOffset = file.readUInt32BE(directory + 16);
  const pages = file.readUInt32BE(directory + 28);
  const codeLimit = file.readUInt32BE(directory + 32);
  const hashSize = file.readUInt8(directory + 36);
  const hashType = file.readUInt8(directory + 37);
  const pageSize = 2 ** file.readUInt8(directory + 39);
  if (hashType !== HASH_SHA256) throw new Error(`hash type ${hashType} is not SHA-256`);
  let badPages = 0;
  for (let page = 0; page < pages; page += 1) {
    const start = page * pageSize;
    const digest = createHash('sha256')
      .update(file.subarray(start, Math.min(start + pageSize, codeLimit)))
      .digest()
      .subarray(0, hashSize);
    const stored = file.subarray(
      directory + hashOffset + page * hashSize,
      directory + hashOffset + (page + 1) * hashSize,
    );
    if (!digest.equals(stored)) badPages += 1;
  }
  return {
    signed: true,
    badPages,
    pages,
    coversFile:
      codeLimit === dataOffset &&
      dataOffset + dataSize === file.length &&
      pages === Math.ceil(codeLimit / pageSize),
    adhoc: (flags & 0x2) !== 0,
  };
}

/**
 * Removes the code signature, as `codesign --remove-signature` does: the load command goes, the
 * file ends where the signature began, and __LINKEDIT shrinks to match.
 */
export function stripMachOSignature(path: string): void {
  const file = readFileSync(path);
  const commands = loadCommands(file);
  const signature = commands.find((each) => each.cmd === LC_CODE_SIGNATURE);
  if (!signature) return;
  if (signature !== commands.at(-1)) throw new Error('LC_CODE_SIGNATURE is not the last load command');
  const dataOffset = file.readUInt32LE(signature.offset + 8);
  for (const command of commands) {
    if (command.cmd !== LC_SEGMENT_64) continue;
    const name = file.toString('latin1', command.offset + 8, command.offset + 24).replace(/\0+$/, '');
    if (name !== '__LINKEDIT') continue;
    const fileOffset = Number(file.readBigUInt64LE(command.offset + 40));
    file.writeBigUInt64LE(BigInt(dataOffset - fileOffset), command.offset + 48);
  }
  file.fill(0, signature.offset, signature.offset + signature.size);
  file.writeUInt32LE(file.readUInt32LE(16) - 1, 16);
  file.writeUInt32LE(file.readUInt32LE(20) - signature.size, 20);
  writeFileSync(path, file.subarray(0, dataOffset));
}
