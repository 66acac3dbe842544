import { BagStudent } from './bag';
import { BiLstmStudent } from './bilstm';
import { CnnStudent } from './cnn';
import { validateStudentConfig } from './config';
import type { Student, StudentConfig } from './types';

/** Builds a freshly initialised student. Equal `config` and `seed` give identical weights. */
export function createStudent(config: StudentConfig, seed: number): Student {
  const checked = validateStudentConfig(config);
  switch (checked.kind) {
    case 'bag':
      return new BagStudent(checked, seed);
    case 'cnn':
      return new CnnStudent(checked, seed);
    case 'bilstm':
      return new BiLstmStudent(checked, seed);
  }
}
