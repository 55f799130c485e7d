import { readFileSync } from 'node:fs';

const load = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** The shared sample lessons (copied from ../shared/fixtures/lessons/): page payloads without ids. */
export const koreanLesson = () => load('pytorch-intro-ko.json');
export const englishLesson = () => load('gradient-descent-en.json');
