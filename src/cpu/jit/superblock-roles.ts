// What an instruction of a superblock is (see superblock.ts).

export const ROLE_PLAIN = 0;
/** a conditional branch in the middle: taken = leave the function */
export const ROLE_EXIT = 1;
/** a relative jump whose target is the next instruction of the superblock */
export const ROLE_FOLLOW = 2;
