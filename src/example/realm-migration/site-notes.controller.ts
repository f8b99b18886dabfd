import { BadRequestException, Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ForgeAuth, ForgeContext, type ForgeInvocationContext } from 'atlassian-connect-nest';
import { MAX_NOTE_LENGTH, MAX_NOTES_PER_INSTALLATION, SiteNotesStore } from './site-notes.store.js';

/** The installation's notes (the data the realm migration moves), for Forge calls with a FIT. */
@Controller('forge/remote/notes')
export class SiteNotesController {
  constructor(private readonly store: SiteNotesStore) {}

  /** The notes and the realm they live in. */
  @Get()
  @ForgeAuth()
  list(@ForgeContext() forge: ForgeInvocationContext) {
    return this.store.notes(forge.installationId);
  }

  /** Adds a note `{ text }` in the installation's home realm. */
  @Post()
  @HttpCode(201)
  @ForgeAuth()
  async add(@ForgeContext() forge: ForgeInvocationContext, @Body() body: unknown) {
    const text = (body as { text?: unknown } | undefined)?.text;
    if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_NOTE_LENGTH) {
      throw new BadRequestException({ type: 'example/invalid-note', message: `A note is { text: a non-empty string of at most ${MAX_NOTE_LENGTH} characters }.` });
    }
    if (!(await this.store.add(forge.installationId, text))) {
      throw new BadRequestException({ type: 'example/too-many-notes', message: `An installation keeps at most ${MAX_NOTES_PER_INSTALLATION} notes.` });
    }
    return this.store.notes(forge.installationId);
  }
}
